#!/usr/bin/env bash
# Seed 000, option 1 ("Resource-based policies and IAM policies"), with the real aws CLI
# against `ferry serve --world scenarios/seed000-option1.toml`:
#
#   FERRY_ENDPOINT=http://127.0.0.1:4566 bash tests/cli/seed000-option1.sh
#
# Cross account, B's user needs BOTH its own IAM policy (step 3) AND A's bucket policy
# (step 4): with both it gets and puts objects; with either one alone it is denied; the
# folder-limited variants (the guide's two notes) confine it to FolderName/.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

BUCKET=accountabucketname
add_profile AccountAadmin AKIASEED000AADMIN001 seed000SecretOfAccountAadmin000000000001
add_profile AccountBadmin AKIASEED000BADMIN001 seed000SecretOfAccountBadmin000000000001

step "Step1: the S3 bucket in Account A exists"
expect_ok aws s3api head-bucket --bucket "$BUCKET" --profile AccountAadmin >/dev/null
CANONICAL_A=$(expect_ok aws s3api list-buckets --query Owner.ID --output text --profile AccountAadmin)
CANONICAL_B=$(expect_ok aws s3api list-buckets --query Owner.ID --output text --profile AccountBadmin)
assert_eq "${#CANONICAL_A}" 64 "length of account A's canonical user ID"
note "canonical A = $CANONICAL_A"
note "canonical B = $CANONICAL_B"

step "Step2: create an IAM user in Account B (AccountBUserName) and its access key"
ARN=$(expect_ok aws iam create-user --user-name AccountBUserName --query User.Arn --output text --profile AccountBadmin)
assert_eq "$ARN" "arn:aws:iam::$B:user/AccountBUserName" "the new user's ARN"
KEYS=$(expect_ok aws iam create-access-key --user-name AccountBUserName \
    --query 'AccessKey.[AccessKeyId,SecretAccessKey]' --output text --profile AccountBadmin)
read -r KEY SECRET <<<"$KEYS"
add_profile AccountBUserName "$KEY" "$SECRET"
ID=$(expect_ok aws sts get-caller-identity --query '[Arn,UserId]' --output text --profile AccountBUserName)
read -r ID_ARN ID_USER <<<"$ID"
assert_eq "$ID_ARN" "arn:aws:iam::$B:user/AccountBUserName" "get-caller-identity Arn of the new key"
assert_eq "${ID_USER:0:4}" AIDA "get-caller-identity UserId prefix of an IAM user"
expect_error EntityAlreadyExists aws iam create-user --user-name AccountBUserName --profile AccountBadmin

printf 'uploaded by account B\n' >b-upload.txt

step "Neither policy yet: B's user is denied"
expect_error AccessDenied aws s3api put-object --bucket "$BUCKET" --key b-upload.txt --body b-upload.txt --profile AccountBUserName
expect_error AccessDenied aws s3api get-object --bucket "$BUCKET" --key from-a.txt got.txt --profile AccountBUserName

step "Step3: B's identity policy only (put-user-policy) - still denied: A's bucket policy does not allow yet"
expect_ok aws iam put-user-policy --user-name AccountBUserName --policy-name AccountABucketAccess \
    --policy-document "file://$(render "$POLICIES/seed000-option1/user-policy.json")" --profile AccountBadmin
expect_error AccessDenied aws s3api put-object --bucket "$BUCKET" --key b-upload.txt --body b-upload.txt --profile AccountBUserName
expect_error AccessDenied aws s3api get-object --bucket "$BUCKET" --key from-a.txt got.txt --profile AccountBUserName
# `aws s3 cp` downloads start with HeadObject, whose 403 has no body: the CLI prints `(403)`.
expect_error 403 aws s3 cp "s3://$BUCKET/from-a.txt" got.txt --profile AccountBUserName

step "Step4: A's bucket policy naming B's user - now B's user gets and puts objects"
expect_ok aws s3api put-bucket-policy --bucket "$BUCKET" \
    --policy "file://$(render "$POLICIES/seed000-option1/bucket-policy.json")" --profile AccountAadmin
expect_ok aws s3api put-object --bucket "$BUCKET" --key b-upload.txt --body b-upload.txt --profile AccountBUserName >/dev/null
expect_ok aws s3api get-object --bucket "$BUCKET" --key b-upload.txt got-b.txt --profile AccountBUserName >/dev/null
assert_same_file b-upload.txt got-b.txt
expect_ok aws s3api get-object --bucket "$BUCKET" --key from-a.txt got-a.txt --profile AccountBUserName >/dev/null
printf 'written by account A\n' >expected-a.txt
assert_same_file expected-a.txt got-a.txt
expect_ok aws s3 cp b-upload.txt "s3://$BUCKET/by-s3-cp.txt" --profile AccountBUserName >/dev/null
expect_ok aws s3 cp "s3://$BUCKET/by-s3-cp.txt" got-cp.txt --profile AccountBUserName >/dev/null
assert_same_file b-upload.txt got-cp.txt

step "ObjectWriter: B owns what it uploaded; A has no access until B grants it (PutObjectAcl)"
OWNER=$(expect_ok aws s3api list-objects-v2 --bucket "$BUCKET" --prefix b-upload.txt --fetch-owner \
    --query 'Contents[0].Owner.ID' --output text --profile AccountAadmin)
assert_eq "$OWNER" "$CANONICAL_B" "owner of b-upload.txt"
expect_error AccessDenied aws s3api get-object --bucket "$BUCKET" --key b-upload.txt got.txt --profile AccountAadmin
expect_ok aws s3api put-object-acl --bucket "$BUCKET" --key b-upload.txt --acl bucket-owner-full-control --profile AccountBUserName
expect_ok aws s3api get-object --bucket "$BUCKET" --key b-upload.txt got-by-a.txt --profile AccountAadmin >/dev/null
assert_same_file b-upload.txt got-by-a.txt
GRANTS=$(expect_ok aws s3api get-object-acl --bucket "$BUCKET" --key b-upload.txt \
    --query "Grants[?Grantee.ID=='$CANONICAL_A'].Permission" --output text --profile AccountAadmin)
assert_eq "$GRANTS" FULL_CONTROL "A's grant on b-upload.txt"

step "Bucket policy only (delete-user-policy) - denied: B's own account no longer allows"
expect_ok aws iam delete-user-policy --user-name AccountBUserName --policy-name AccountABucketAccess --profile AccountBadmin
expect_error AccessDenied aws s3api get-object --bucket "$BUCKET" --key from-a.txt got.txt --profile AccountBUserName
expect_error AccessDenied aws s3api put-object --bucket "$BUCKET" --key b-upload-2.txt --body b-upload.txt --profile AccountBUserName

step "Note (Step4): bucket policy limited to FolderName/* (bucket-policy-folder.json)"
expect_ok aws iam put-user-policy --user-name AccountBUserName --policy-name AccountABucketAccess \
    --policy-document "file://$(render "$POLICIES/seed000-option1/user-policy.json")" --profile AccountBadmin
expect_ok aws s3api put-bucket-policy --bucket "$BUCKET" \
    --policy "file://$(render "$POLICIES/seed000-option1/bucket-policy-folder.json")" --profile AccountAadmin
expect_ok aws s3api put-object --bucket "$BUCKET" --key FolderName/b-upload.txt --body b-upload.txt --profile AccountBUserName >/dev/null
expect_ok aws s3api get-object --bucket "$BUCKET" --key FolderName/from-a.txt got-folder.txt --profile AccountBUserName >/dev/null
printf 'written by account A into FolderName\n' >expected-folder.txt
assert_same_file expected-folder.txt got-folder.txt
expect_error AccessDenied aws s3api put-object --bucket "$BUCKET" --key outside.txt --body b-upload.txt --profile AccountBUserName
expect_error AccessDenied aws s3api get-object --bucket "$BUCKET" --key from-a.txt got.txt --profile AccountBUserName

step "Note (Step3): identity policy limited to FolderName/* with the full bucket policy"
cat >user-policy-folder.json <<EOF
{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
  "Action": ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:PutObjectAcl"],
  "Resource": ["arn:aws:s3:::$BUCKET/FolderName/*"]}]}
EOF
expect_ok aws iam put-user-policy --user-name AccountBUserName --policy-name AccountABucketAccess \
    --policy-document file://user-policy-folder.json --profile AccountBadmin
expect_ok aws s3api put-bucket-policy --bucket "$BUCKET" \
    --policy "file://$(render "$POLICIES/seed000-option1/bucket-policy.json")" --profile AccountAadmin
expect_ok aws s3api put-object --bucket "$BUCKET" --key FolderName/b-upload-2.txt --body b-upload.txt --profile AccountBUserName >/dev/null
expect_error AccessDenied aws s3api put-object --bucket "$BUCKET" --key outside.txt --body b-upload.txt --profile AccountBUserName
expect_error AccessDenied aws s3api get-object --bucket "$BUCKET" --key from-a.txt got.txt --profile AccountBUserName

step "The bucket policy names the user, not just its name: a recreated AccountBUserName is not granted"
# AWS stores a principal named in a policy by its unique ID (AWS-RULES rule 10; IAM User
# Guide, Principal element: "if you delete the role or user, then the relationship is broken.
# The policy no longer applies, even if you recreate the user or role because it does not
# match the principal ID stored in the trust policy").
expect_ok aws iam put-user-policy --user-name AccountBUserName --policy-name AccountABucketAccess \
    --policy-document "file://$(render "$POLICIES/seed000-option1/user-policy.json")" --profile AccountBadmin
expect_ok aws s3api get-object --bucket "$BUCKET" --key from-a.txt got.txt --profile AccountBUserName >/dev/null
expect_error DeleteConflict aws iam delete-user --user-name AccountBUserName --profile AccountBadmin
expect_ok aws iam delete-access-key --user-name AccountBUserName --access-key-id "$KEY" --profile AccountBadmin
expect_ok aws iam delete-user-policy --user-name AccountBUserName --policy-name AccountABucketAccess --profile AccountBadmin
expect_ok aws iam delete-user --user-name AccountBUserName --profile AccountBadmin
expect_ok aws iam create-user --user-name AccountBUserName --profile AccountBadmin >/dev/null
KEYS=$(expect_ok aws iam create-access-key --user-name AccountBUserName \
    --query 'AccessKey.[AccessKeyId,SecretAccessKey]' --output text --profile AccountBadmin)
read -r KEY SECRET <<<"$KEYS"
add_profile AccountBUserNameAgain "$KEY" "$SECRET"
expect_ok aws iam put-user-policy --user-name AccountBUserName --policy-name AccountABucketAccess \
    --policy-document "file://$(render "$POLICIES/seed000-option1/user-policy.json")" --profile AccountBadmin
# AWS stores the principal by unique ID: the recreated user is not the one the policy names.
expect_error AccessDenied aws s3api get-object --bucket "$BUCKET" --key from-a.txt got.txt --profile AccountBUserNameAgain

finish
