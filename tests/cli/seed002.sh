#!/usr/bin/env bash
# Seed 002 (read-only cross-account access through a role), with the real aws CLI against
# `ferry serve --world scenarios/seed002.toml`:
#
#   FERRY_ENDPOINT=http://127.0.0.1:4566 bash tests/cli/seed002.sh
#
# A's bucket policy grants B's role AccountBDataAccessRole GetObject and ListBucket; the
# role's own policy mirrors it; the role trusts account A. A session of the role lists and
# downloads (`aws s3 ls`, `aws s3 cp s3://... .`) but cannot upload.
#
# Where the seed and AWS disagree, the script asserts AWS's documented behaviour
# (/work/shared/AWS-RULES.md, "where a rule and a seed disagree, the rule wins"):
#  - The trust policy names `arn:aws:iam::A:root`, so the role can be assumed by principals of
#    account A whose own IAM policies allow sts:AssumeRole (rule 6) - not, as the seed says,
#    by "a user or application in AccountB": those are denied.
#  - The seed says `"AWS": "ACCOUNTB_ID"` as bucket-policy principal "will not work". It does
#    (rule 7): it trusts all of account B, delegated to B's own IAM policies.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

BUCKET=account-a-data-bucket
ROLE_ARN="arn:aws:iam::$B:role/AccountBDataAccessRole"
add_profile AccountAadmin AKIASEED002AADMIN001 seed002SecretOfAccountAadmin000000000001
add_profile AccountBadmin AKIASEED002BADMIN001 seed002SecretOfAccountBadmin000000000001
printf 'id,value\n1,alpha\n2,beta\n' >expected-my-data.txt

step "AccountB: create AccountBDataAccessRole (trust: account A) with its permissions policy (put-role-policy)"
ARN=$(expect_ok aws iam create-role --role-name AccountBDataAccessRole \
    --assume-role-policy-document "file://$(render "$POLICIES/seed002/trust-policy.json")" \
    --query Role.Arn --output text --profile AccountBadmin)
assert_eq "$ARN" "$ROLE_ARN" "the role's ARN"
expect_ok aws iam put-role-policy --role-name AccountBDataAccessRole --policy-name ReadAccountABucket \
    --policy-document "file://$(render "$POLICIES/seed002/role-policy.json")" --profile AccountBadmin

step "AccountA: the bucket policy granting the role GetObject and ListBucket"
expect_ok aws s3api put-bucket-policy --bucket "$BUCKET" \
    --policy "file://$(render "$POLICIES/seed002/bucket-policy.json")" --profile AccountAadmin
POLICY=$(expect_ok aws s3api get-bucket-policy --bucket "$BUCKET" --query Policy --output text --profile AccountAadmin)
assert_contains "$POLICY" "$ROLE_ARN" "get-bucket-policy"

step "Who may assume it: a user of account A, once A's own policy allows sts:AssumeRole (rule 6)"
expect_ok aws iam create-user --user-name AccountAReader --profile AccountAadmin >/dev/null
KEYS=$(expect_ok aws iam create-access-key --user-name AccountAReader \
    --query 'AccessKey.[AccessKeyId,SecretAccessKey]' --output text --profile AccountAadmin)
read -r KEY SECRET <<<"$KEYS"
add_profile AccountAReader "$KEY" "$SECRET"
# The trust policy names only the account, so account A has to delegate: denied until then.
expect_error AccessDenied aws sts assume-role --role-arn "$ROLE_ARN" --role-session-name MySession --profile AccountAReader
cat >assume-data-role.json <<EOF
{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "$ROLE_ARN"}]}
EOF
expect_ok aws iam put-user-policy --user-name AccountAReader --policy-name AssumeAccountBDataAccessRole \
    --policy-document file://assume-data-role.json --profile AccountAadmin

# "This AssumeRole policy allows the AWS root account of AccountA to initiate the
# sts:AssumeRole API call": it names the account; the root user itself cannot assume roles.
add_profile AccountAroot "$A_ROOT_KEY" "$A_ROOT_SECRET"
expect_error AccessDenied aws sts assume-role --role-arn "$ROLE_ARN" --role-session-name MySession --profile AccountAroot

step "The seed's 'a user in AccountB can assume it' does not hold: the trust policy names account A only"
expect_error AccessDenied aws sts assume-role --role-arn "$ROLE_ARN" --role-session-name MySession --profile AccountBadmin

step "First, assume the role and get temporary credentials"
CREDS=$(expect_ok aws sts assume-role --role-arn "$ROLE_ARN" --role-session-name "MySession" \
    --query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]' --output text --profile AccountAReader)
read -r TKEY TSECRET TTOKEN <<<"$CREDS"
add_profile TempCreds "$TKEY" "$TSECRET" "$TTOKEN"
ID=$(expect_ok aws sts get-caller-identity --query Arn --output text --profile TempCreds)
assert_eq "$ID" "arn:aws:sts::$B:assumed-role/AccountBDataAccessRole/MySession" "the session's identity"

step "Then, list objects in the cross-account bucket, and download an object"
LISTING=$(expect_ok aws s3 ls "s3://$BUCKET" --profile TempCreds)
assert_contains "$LISTING" "my-data.txt" "aws s3 ls s3://$BUCKET"
mkdir download && cd download
expect_ok aws s3 cp "s3://$BUCKET/my-data.txt" . --profile TempCreds >/dev/null
cd ..
assert_same_file expected-my-data.txt download/my-data.txt
# The role may list the bucket, so a missing key is 404 NoSuchKey (not 403).
expect_error NoSuchKey aws s3api get-object --bucket "$BUCKET" --key missing.txt got.txt --profile TempCreds

step "Read-only: uploads and other actions are denied"
printf 'not allowed\n' >upload.txt
expect_error AccessDenied aws s3 cp upload.txt "s3://$BUCKET/upload.txt" --profile TempCreds
expect_error AccessDenied aws s3api put-object --bucket "$BUCKET" --key upload.txt --body upload.txt --profile TempCreds
expect_error AccessDenied aws s3api delete-object --bucket "$BUCKET" --key my-data.txt --profile TempCreds
expect_error AccessDenied aws s3 ls --profile TempCreds

step "The bucket policy names the role only: B's administrator (who may do anything in B) is denied"
expect_error AccessDenied aws s3 ls "s3://$BUCKET" --profile AccountBadmin
expect_error AccessDenied aws s3api get-object --bucket "$BUCKET" --key my-data.txt got.txt --profile AccountBadmin

step "Account-ID principal (\"AWS\": \"$B\"): works, for every principal of B its own policies allow (rule 7)"
expect_ok aws s3api put-bucket-policy --bucket "$BUCKET" \
    --policy "file://$(render "$POLICIES/seed002/bucket-policy-account-principal.json")" --profile AccountAadmin
LISTING=$(expect_ok aws s3 ls "s3://$BUCKET" --profile TempCreds)
assert_contains "$LISTING" "my-data.txt" "aws s3 ls s3://$BUCKET (role session, account principal)"
expect_ok aws s3 cp "s3://$BUCKET/my-data.txt" session-copy.txt --profile TempCreds >/dev/null
assert_same_file expected-my-data.txt session-copy.txt
expect_error AccessDenied aws s3 cp upload.txt "s3://$BUCKET/upload.txt" --profile TempCreds
LISTING=$(expect_ok aws s3 ls "s3://$BUCKET" --profile AccountBadmin)
assert_contains "$LISTING" "my-data.txt" "aws s3 ls s3://$BUCKET (AccountBadmin, account principal)"
expect_ok aws s3 cp "s3://$BUCKET/my-data.txt" admin-copy.txt --profile AccountBadmin >/dev/null
assert_same_file expected-my-data.txt admin-copy.txt
# The bucket policy grants reading only: B's administrator still cannot write.
expect_error AccessDenied aws s3 cp upload.txt "s3://$BUCKET/upload.txt" --profile AccountBadmin

step "... and only those: a user of B without IAM policies is still denied"
expect_ok aws iam create-user --user-name AccountBNoPolicy --profile AccountBadmin >/dev/null
KEYS=$(expect_ok aws iam create-access-key --user-name AccountBNoPolicy \
    --query 'AccessKey.[AccessKeyId,SecretAccessKey]' --output text --profile AccountBadmin)
read -r KEY SECRET <<<"$KEYS"
add_profile AccountBNoPolicy "$KEY" "$SECRET"
expect_error AccessDenied aws s3 ls "s3://$BUCKET" --profile AccountBNoPolicy
expect_error AccessDenied aws s3api get-object --bucket "$BUCKET" --key my-data.txt got.txt --profile AccountBNoPolicy

finish
