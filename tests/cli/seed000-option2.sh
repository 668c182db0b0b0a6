#!/usr/bin/env bash
# Seed 000, option 2 ("Cross-account IAM roles"), with the real aws CLI against
# `ferry serve --world scenarios/seed000-option2.toml`:
#
#   FERRY_ENDPOINT=http://127.0.0.1:4566 bash tests/cli/seed000-option2.sh
#
# A's role AccountARole trusts B's user AccountBUserName; B lets that user assume it; the
# session then has the role's access policy in A: ListAllMyBuckets (`aws s3 ls`), ListBucket,
# GetBucketLocation, GetObject and PutObject on A's bucket, and nothing else. Principals the
# trust policy does not name cannot assume the role, whatever their own policies say.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

BUCKET=accountabucketname
ROLE_ARN="arn:aws:iam::$A:role/AccountARole"
add_profile AccountAadmin AKIASEED000AADMIN002 seed000SecretOfAccountAadmin000000000002
add_profile AccountBadmin AKIASEED000BADMIN002 seed000SecretOfAccountBadmin000000000002

step "Step1 before B's user exists: a trust policy naming a missing principal is refused"
expect_error MalformedPolicyDocument aws iam create-role --role-name AccountARole \
    --assume-role-policy-document "file://$(render "$POLICIES/seed000-option2/trust-policy.json")" \
    --profile AccountAadmin

step "(Account B) the user AccountBUserName and its access key"
expect_ok aws iam create-user --user-name AccountBUserName --profile AccountBadmin >/dev/null
KEYS=$(expect_ok aws iam create-access-key --user-name AccountBUserName \
    --query 'AccessKey.[AccessKeyId,SecretAccessKey]' --output text --profile AccountBadmin)
read -r KEY SECRET <<<"$KEYS"
add_profile AccountBUserName "$KEY" "$SECRET"

step "Step1: create AccountARole in A with the trust policy; its access policy via create-policy + attach-role-policy"
ARN=$(expect_ok aws iam create-role --role-name AccountARole \
    --assume-role-policy-document "file://$(render "$POLICIES/seed000-option2/trust-policy.json")" \
    --query Role.Arn --output text --profile AccountAadmin)
assert_eq "$ARN" "$ROLE_ARN" "the role's ARN"
POLICY_ARN=$(expect_ok aws iam create-policy --policy-name AccountARoleAccess \
    --policy-document "file://$(render "$POLICIES/seed000-option2/role-policy.json")" \
    --query Policy.Arn --output text --profile AccountAadmin)
assert_eq "$POLICY_ARN" "arn:aws:iam::$A:policy/AccountARoleAccess" "the access policy's ARN"
expect_ok aws iam attach-role-policy --role-name AccountARole --policy-arn "$POLICY_ARN" --profile AccountAadmin

step "Before Step2: B's user has no sts:AssumeRole of its own - denied (cross account needs both sides)"
expect_error AccessDenied aws sts assume-role --role-arn "$ROLE_ARN" --role-session-name early --profile AccountBUserName

step "Step2: B's identity policy allowing sts:AssumeRole on AccountARole (create-policy + attach-user-policy)"
B_POLICY_ARN=$(expect_ok aws iam create-policy --policy-name AssumeAccountARole \
    --policy-document "file://$(render "$POLICIES/seed000-option2/assume-policy.json")" \
    --query Policy.Arn --output text --profile AccountBadmin)
expect_ok aws iam attach-user-policy --user-name AccountBUserName --policy-arn "$B_POLICY_ARN" --profile AccountBadmin

step "Step3: B's user assumes the role in A"
CREDS=$(expect_ok aws sts assume-role --role-arn "$ROLE_ARN" --role-session-name AccountBUserSession \
    --query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]' --output text --profile AccountBUserName)
read -r TKEY TSECRET TTOKEN <<<"$CREDS"
add_profile AccountARoleSession "$TKEY" "$TSECRET" "$TTOKEN"
ID=$(expect_ok aws sts get-caller-identity --query Arn --output text --profile AccountARoleSession)
assert_eq "$ID" "arn:aws:sts::$A:assumed-role/AccountARole/AccountBUserSession" "the session's identity"

step "The session: ListAllMyBuckets (aws s3 ls), ListBucket, GetBucketLocation"
LISTING=$(expect_ok aws s3 ls --profile AccountARoleSession)
assert_contains "$LISTING" "$BUCKET" "aws s3 ls (account A's buckets)"
LISTING=$(expect_ok aws s3 ls "s3://$BUCKET/" --profile AccountARoleSession)
assert_contains "$LISTING" "report.txt" "aws s3 ls s3://$BUCKET/"
LOCATION=$(expect_ok aws s3api get-bucket-location --bucket "$BUCKET" --query LocationConstraint --output text --profile AccountARoleSession)
assert_eq "$LOCATION" None "get-bucket-location (us-east-1 is null)"
# With s3:ListBucket, a missing key is 404 NoSuchKey rather than 403.
expect_error NoSuchKey aws s3api get-object --bucket "$BUCKET" --key missing.txt got.txt --profile AccountARoleSession

step "The session: GetObject and PutObject (download and upload)"
expect_ok aws s3 cp "s3://$BUCKET/report.txt" report.txt --profile AccountARoleSession >/dev/null
printf 'quarterly numbers, owned by account A\n' >expected-report.txt
assert_same_file expected-report.txt report.txt
printf 'uploaded through AccountARole\n' >upload.txt
expect_ok aws s3 cp upload.txt "s3://$BUCKET/from-b/upload.txt" --profile AccountARoleSession >/dev/null
expect_ok aws s3api get-object --bucket "$BUCKET" --key from-b/upload.txt got.txt --profile AccountARoleSession >/dev/null
assert_same_file upload.txt got.txt
OWNER=$(expect_ok aws s3api list-objects-v2 --bucket "$BUCKET" --prefix from-b/ --fetch-owner \
    --query 'Contents[0].Owner.ID' --output text --profile AccountAadmin)
CANONICAL_A=$(expect_ok aws s3api list-buckets --query Owner.ID --output text --profile AccountAadmin)
assert_eq "$OWNER" "$CANONICAL_A" "owner of the session's upload (account A)"

step "The session can do nothing else the access policy does not list"
expect_error AccessDenied aws s3api delete-object --bucket "$BUCKET" --key report.txt --profile AccountARoleSession
expect_error AccessDenied aws s3api get-object-acl --bucket "$BUCKET" --key report.txt --profile AccountARoleSession
expect_error AccessDenied aws iam list-users --profile AccountARoleSession

step "Without the role, B's user cannot reach A's bucket"
LISTING=$(expect_ok aws s3 ls --profile AccountBadmin)
assert_eq "$LISTING" "" "aws s3 ls in account B (ListBuckets shows the caller's own buckets only)"
expect_error AccessDenied aws s3 ls "s3://$BUCKET/" --profile AccountBUserName
expect_error AccessDenied aws s3api get-object --bucket "$BUCKET" --key report.txt got.txt --profile AccountBUserName

step "Untrusted users of B are denied: the trust policy names only AccountBUserName"
expect_ok aws iam create-user --user-name AccountBOtherUser --profile AccountBadmin >/dev/null
KEYS=$(expect_ok aws iam create-access-key --user-name AccountBOtherUser \
    --query 'AccessKey.[AccessKeyId,SecretAccessKey]' --output text --profile AccountBadmin)
read -r KEY SECRET <<<"$KEYS"
add_profile AccountBOtherUser "$KEY" "$SECRET"
expect_ok aws iam attach-user-policy --user-name AccountBOtherUser --policy-arn "$B_POLICY_ARN" --profile AccountBadmin
expect_error AccessDenied aws sts assume-role --role-arn "$ROLE_ARN" --role-session-name other --profile AccountBOtherUser
expect_error AccessDenied aws sts assume-role --role-arn "$ROLE_ARN" --role-session-name admin --profile AccountBadmin

step "The trust policy names the user, not just its name: a recreated AccountBUserName cannot assume the role"
# IAM User Guide (Principal element; role trust policy examples): "When you save the policy,
# AWS transforms the ARN to a unique principal ID ... if you delete the role or user, then the
# relationship is broken. The policy no longer applies, even if you recreate the user or role
# because it does not match the principal ID stored in the trust policy."
expect_ok aws iam detach-user-policy --user-name AccountBUserName --policy-arn "$B_POLICY_ARN" --profile AccountBadmin
OLD_KEY=$(expect_ok aws iam list-access-keys --user-name AccountBUserName \
    --query 'AccessKeyMetadata[0].AccessKeyId' --output text --profile AccountBadmin)
expect_ok aws iam delete-access-key --user-name AccountBUserName --access-key-id "$OLD_KEY" --profile AccountBadmin
expect_ok aws iam delete-user --user-name AccountBUserName --profile AccountBadmin
expect_ok aws iam create-user --user-name AccountBUserName --profile AccountBadmin >/dev/null
KEYS=$(expect_ok aws iam create-access-key --user-name AccountBUserName \
    --query 'AccessKey.[AccessKeyId,SecretAccessKey]' --output text --profile AccountBadmin)
read -r KEY SECRET <<<"$KEYS"
add_profile AccountBUserNameAgain "$KEY" "$SECRET"
expect_ok aws iam attach-user-policy --user-name AccountBUserName --policy-arn "$B_POLICY_ARN" --profile AccountBadmin
# AWS stores the principal by unique ID: the recreated user is not the one the policy names.
expect_error AccessDenied aws sts assume-role --role-arn "$ROLE_ARN" --role-session-name again --profile AccountBUserNameAgain

finish
