#!/usr/bin/env bash
# Seed 003 ("Cross Account S3 Bucket Access": upload-only), with the real aws CLI against
# `ferry serve --world scenarios/seed003.toml`:
#
#   FERRY_ENDPOINT=http://127.0.0.1:4566 bash tests/cli/seed003.sh
#
# Account A's user bobbytables assumes A's role account-a-s3-role; with the session's
# credentials exported to the environment (as the post does) it uploads to foo/ and fighters/
# of account B's bucket, and can neither upload elsewhere nor download anything.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

BUCKET=account-b-bucket
ROLE_ARN="arn:aws:iam::$A:role/account-a-s3-role"
add_profile AccountAadmin AKIASEED003AADMIN001 seed003SecretOfAccountAadmin000000000001
add_profile AccountBadmin AKIASEED003BADMIN001 seed003SecretOfAccountBadmin000000000001

step "Step 1 (Prep Account B), before the role exists: the bucket policy cannot name it yet"
# "You will need to come back after creating the role in step 2 to fill in the principal arn
# reference": S3 refuses a policy naming a principal that does not exist (rule 10).
expect_error MalformedPolicy aws s3api put-bucket-policy --bucket "$BUCKET" \
    --policy "file://$(render "$POLICIES/seed003/bucket-policy.json")" --profile AccountBadmin
BPA=$(expect_ok aws s3api get-public-access-block --bucket "$BUCKET" \
    --query 'PublicAccessBlockConfiguration.[BlockPublicAcls,IgnorePublicAcls,BlockPublicPolicy,RestrictPublicBuckets]' \
    --output text --profile AccountBadmin)
assert_eq "${BPA//$'\t'/ }" "True True True True" "account-b-bucket blocks all public access"

step "Step 2 (Prep Account A): user bobbytables, its key saved as profile s3-test"
expect_ok aws iam create-user --user-name bobbytables --profile AccountAadmin >/dev/null
KEYS=$(expect_ok aws iam create-access-key --user-name bobbytables \
    --query 'AccessKey.[AccessKeyId,SecretAccessKey]' --output text --profile AccountAadmin)
read -r KEY SECRET <<<"$KEYS"
add_profile s3-test "$KEY" "$SECRET"

step "Step 2: role account-a-s3-role with the custom trust policy, and its inline policy (put-role-policy)"
ARN=$(expect_ok aws iam create-role --role-name account-a-s3-role \
    --assume-role-policy-document "file://$(render "$POLICIES/seed003/trust-policy.json")" \
    --query Role.Arn --output text --profile AccountAadmin)
assert_eq "$ARN" "$ROLE_ARN" "the role's ARN"
expect_ok aws iam put-role-policy --role-name account-a-s3-role --policy-name account-b-bucket-upload \
    --policy-document "file://$(render "$POLICIES/seed003/role-policy.json")" --profile AccountAadmin

step "Step 1, completed: B's bucket policy naming the role"
expect_ok aws s3api put-bucket-policy --bucket "$BUCKET" \
    --policy "file://$(render "$POLICIES/seed003/bucket-policy.json")" --profile AccountBadmin

printf 'hello from account A\n' >test.txt

step "Without the role, bobbytables cannot upload (B's bucket policy names the role only)"
expect_error AccessDenied aws s3 cp test.txt "s3://$BUCKET/foo/test.txt" --profile s3-test

step "Step 3: assume the role with the bobbytables credentials (profile s3-test)"
# Same account: the trust policy naming bobbytables is enough; he needs no policy of his own.
CREDS=$(expect_ok aws sts assume-role --role-arn "$ROLE_ARN" --role-session-name BenAWSCLI-Session \
    --profile s3-test --query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]' --output text)
read -r TKEY TSECRET TTOKEN <<<"$CREDS"
ROLE_ID=$(expect_ok aws iam get-role --role-name account-a-s3-role --query Role.RoleId --output text --profile AccountAadmin)

# Everything below runs as the session, exported to the environment as the post does.
export AWS_ACCESS_KEY_ID=$TKEY
export AWS_SECRET_ACCESS_KEY=$TSECRET
export AWS_SESSION_TOKEN=$TTOKEN

step "aws sts get-caller-identity shows the assumed role"
ID=$(expect_ok aws sts get-caller-identity --query '[Arn,Account,UserId]' --output text)
read -r ID_ARN ID_ACCOUNT ID_USER <<<"$ID"
assert_eq "$ID_ARN" "arn:aws:sts::$A:assumed-role/account-a-s3-role/BenAWSCLI-Session" "get-caller-identity Arn"
assert_eq "$ID_ACCOUNT" "$A" "get-caller-identity Account"
assert_eq "$ID_USER" "$ROLE_ID:BenAWSCLI-Session" "get-caller-identity UserId"

step "Upload: aws s3 cp test.txt s3://account-b-bucket/foo/test.txt (and under fighters/)"
expect_ok aws s3 cp test.txt "s3://$BUCKET/foo/test.txt" >/dev/null
expect_ok aws s3 cp test.txt "s3://$BUCKET/fighters/test.txt" >/dev/null
expect_ok aws s3api put-object --bucket "$BUCKET" --key fighters/everlong.txt --body test.txt \
    --acl bucket-owner-full-control >/dev/null

step "Other prefixes are denied (the role's policy allows foo/* and fighters/* only)"
expect_error AccessDenied aws s3 cp test.txt "s3://$BUCKET/bar/test.txt"
expect_error AccessDenied aws s3 cp test.txt "s3://$BUCKET/test.txt"
# B's bucket policy allows foo* but the role's own policy only foo/*: both must allow.
expect_error AccessDenied aws s3 cp test.txt "s3://$BUCKET/foobar.txt"

step "Download is denied: upload only"
expect_error AccessDenied aws s3api get-object --bucket "$BUCKET" --key foo/test.txt got.txt
# `aws s3 cp` downloads start with HeadObject, whose 403 has no body: the CLI prints `(403)`.
expect_error 403 aws s3 cp "s3://$BUCKET/foo/test.txt" got.txt
expect_error AccessDenied aws s3 ls "s3://$BUCKET/"

unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN

step "The uploads arrived, owned by B (bucket owner enforced): B reads them"
expect_ok aws s3 cp "s3://$BUCKET/foo/test.txt" by-b.txt --profile AccountBadmin >/dev/null
assert_same_file test.txt by-b.txt
LISTING=$(expect_ok aws s3 ls "s3://$BUCKET/" --recursive --profile AccountBadmin)
assert_contains "$LISTING" "fighters/test.txt" "B's listing"
CANONICAL_B=$(expect_ok aws s3api list-buckets --query Owner.ID --output text --profile AccountBadmin)
OWNER=$(expect_ok aws s3api get-object-acl --bucket "$BUCKET" --key foo/test.txt --query Owner.ID --output text --profile AccountBadmin)
assert_eq "$OWNER" "$CANONICAL_B" "owner of foo/test.txt"

finish
