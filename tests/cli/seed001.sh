#!/usr/bin/env bash
# Seed 001 (S3 User Guide, Example 4: "Bucket owner granting cross-account permission to
# objects it does not own"), with the real aws CLI against
# `ferry serve --world scenarios/seed001.toml`:
#
#   FERRY_ENDPOINT=http://127.0.0.1:4566 bash tests/cli/seed001.sh
#
# The world already holds Step 1 (A's bucket policy, examplerole trusted by account C with
# the access-accountA-bucket policy) and Step 3.1 (Dave with his assume-role policy), with
# fixed keys for the administrators and Dave (the walkthrough's CLI profiles). The script
# does Step 0.3, Step 2 and Step 3.2 with the commands the guide gives.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

BUCKET=doc-example-bucket1
add_profile AccountAadmin AKIASEED001AADMIN001 seed001SecretOfAccountAadmin000000000001
add_profile AccountBadmin AKIASEED001BADMIN001 seed001SecretOfAccountBadmin000000000001
add_profile AccountCadmin AKIASEED001CADMIN001 seed001SecretOfAccountCadmin000000000001
add_profile AccountCDave AKIASEED001CDAVE0001 seed001SecretOfDave000000000000000000001

step "Step 0.3: note the canonical user ID of Account A (the bucket owner)"
CANONICAL_A=$(expect_ok aws s3api list-buckets --query Owner.ID --output text --profile AccountAadmin)
CANONICAL_B=$(expect_ok aws s3api list-buckets --query Owner.ID --output text --profile AccountBadmin)
assert_eq "${#CANONICAL_A}" 64 "length of account A's canonical user ID"
BUCKETS=$(expect_ok aws s3api list-buckets --query 'Buckets[].Name' --output text --profile AccountAadmin)
assert_eq "$BUCKETS" "$BUCKET" "account A's buckets"

head -c 4096 /dev/urandom >HappyFace.jpg

step "Step 2 without the grant: statement 112 (Deny unless x-amz-grant-full-control) refuses the upload"
expect_error AccessDenied aws s3api put-object --bucket "$BUCKET" --key HappyFace.jpg --body HappyFace.jpg --profile AccountBadmin
expect_error AccessDenied aws s3api put-object --bucket "$BUCKET" --key HappyFace.jpg --body HappyFace.jpg \
    --grant-full-control "id=$CANONICAL_B" --profile AccountBadmin
expect_error AccessDenied aws s3 cp HappyFace.jpg "s3://$BUCKET/HappyFace.jpg" --profile AccountBadmin

step "Step 2: AccountBadmin uploads HappyFace.jpg granting the bucket owner full control"
expect_ok aws s3api put-object --bucket "$BUCKET" --key HappyFace.jpg --body HappyFace.jpg \
    --grant-full-control "id=$CANONICAL_A" --profile AccountBadmin >/dev/null

step "The object belongs to Account B (ObjectWriter); its ACL grants Account A FULL_CONTROL"
OWNER=$(expect_ok aws s3api get-object-acl --bucket "$BUCKET" --key HappyFace.jpg --query Owner.ID --output text --profile AccountBadmin)
assert_eq "$OWNER" "$CANONICAL_B" "owner of HappyFace.jpg (get-object-acl)"
GRANT=$(expect_ok aws s3api get-object-acl --bucket "$BUCKET" --key HappyFace.jpg \
    --query "Grants[?Grantee.ID=='$CANONICAL_A'].Permission" --output text --profile AccountBadmin)
assert_eq "$GRANT" FULL_CONTROL "account A's grant on HappyFace.jpg"
# With that grant the bucket owner can use the object (and so delegate it to examplerole).
expect_ok aws s3api get-object --bucket "$BUCKET" --key HappyFace.jpg by-a.jpg --profile AccountAadmin >/dev/null
assert_same_file HappyFace.jpg by-a.jpg

step "Step 3.2 before assuming: Dave's own policy allows only sts:AssumeRole"
expect_error AccessDenied aws s3api get-object --bucket "$BUCKET" --key HappyFace.jpg SaveFileAs.jpg --profile AccountCDave

step "Step 3.2.1: Dave assumes examplerole (profile AccountCDave, session 'test')"
CREDS=$(expect_ok aws sts assume-role --role-arn "arn:aws:iam::$A:role/examplerole" --profile AccountCDave \
    --role-session-name test --output text --query \
    '[Credentials.AccessKeyId,Credentials.SecretAccessKey,Credentials.SessionToken,AssumedRoleUser.Arn,AssumedRoleUser.AssumedRoleId]')
read -r TKEY TSECRET TTOKEN SESSION_ARN SESSION_ID <<<"$CREDS"
assert_eq "$SESSION_ARN" "arn:aws:sts::$A:assumed-role/examplerole/test" "AssumedRoleUser.Arn"
assert_eq "${SESSION_ID:0:4}/${SESSION_ID#*:}" "AROA/test" "AssumedRoleUser.AssumedRoleId (ROLEID:SESSION)"

step "Step 3.2.2: save the temporary credentials as profile TempCred"
add_profile TempCred "$TKEY" "$TSECRET" "$TTOKEN"
ID=$(expect_ok aws sts get-caller-identity --query Arn --output text --profile TempCred)
assert_eq "$ID" "arn:aws:sts::$A:assumed-role/examplerole/test" "TempCred's identity"

step "Step 3.2.3: get-object with TempCred works; get-object-acl is denied (the role allows only s3:GetObject)"
expect_ok aws s3api get-object --bucket "$BUCKET" --key HappyFace.jpg SaveFileAs.jpg --profile TempCred >/dev/null
assert_same_file HappyFace.jpg SaveFileAs.jpg
expect_error AccessDenied aws s3api get-object-acl --bucket "$BUCKET" --key HappyFace.jpg --profile TempCred
expect_error AccessDenied aws s3api put-object --bucket "$BUCKET" --key other.jpg --body HappyFace.jpg --profile TempCred
expect_error AccessDenied aws s3 ls "s3://$BUCKET/" --profile TempCred
# Without s3:ListBucket a missing key is 403 AccessDenied, not 404.
expect_error AccessDenied aws s3api get-object --bucket "$BUCKET" --key NoSuchFace.jpg x.jpg --profile TempCred

step "Step 3.1 with the IAM CLI: AccountCadmin creates another user (Erin) and delegates sts:AssumeRole"
expect_ok aws iam create-user --user-name Erin --profile AccountCadmin >/dev/null
KEYS=$(expect_ok aws iam create-access-key --user-name Erin \
    --query 'AccessKey.[AccessKeyId,SecretAccessKey]' --output text --profile AccountCadmin)
read -r KEY SECRET <<<"$KEYS"
add_profile AccountCErin "$KEY" "$SECRET"
# The trust policy names account C only, so C must delegate: without a policy, denied.
expect_error AccessDenied aws sts assume-role --role-arn "arn:aws:iam::$A:role/examplerole" \
    --role-session-name erin --profile AccountCErin
expect_ok aws iam put-user-policy --user-name Erin --policy-name assume-examplerole \
    --policy-document "file://$(render "$POLICIES/seed001/dave-assume.json")" --profile AccountCadmin
CREDS=$(expect_ok aws sts assume-role --role-arn "arn:aws:iam::$A:role/examplerole" --role-session-name erin \
    --query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]' --output text --profile AccountCErin)
read -r TKEY TSECRET TTOKEN <<<"$CREDS"
add_profile ErinTempCred "$TKEY" "$TSECRET" "$TTOKEN"
expect_ok aws s3api get-object --bucket "$BUCKET" --key HappyFace.jpg erin.jpg --profile ErinTempCred >/dev/null
assert_same_file HappyFace.jpg erin.jpg

step "Trust: the role trusts account C, not account B"
expect_error AccessDenied aws sts assume-role --role-arn "arn:aws:iam::$A:role/examplerole" \
    --role-session-name b-admin --profile AccountBadmin

finish
