# Seed 001 (shared/seeds/001): S3 User Guide, "Example 4 - Bucket owner granting cross-account
# permission to objects it does not own". Account A owns the bucket; Account B's administrator
# uploads an object (owned by B) granting A full control; A's role examplerole, trusted by
# Account C, lets C's user Dave read it.
Feature: Seed 001 Example 4 - bucket owner granting cross-account permission to objects it does not own

  Background:
    Given accounts "A", "B" and "C"
    # "Step 1.2: Create a bucket." - objects in it may belong to other accounts (ObjectWriter)
    And a bucket "doc-example-bucket1" in account "A" with object ownership "ObjectWriter"
    # "Make sure that you have three AWS accounts and each account has one administrator user"
    And a user "AccountBadmin" in account "B" with an access key
    And user "AccountBadmin" has inline policy "administrator":
      """
      { "Version": "2012-10-17", "Statement": [ { "Effect": "Allow", "Action": "*", "Resource": "*" } ] }
      """
    # "Attach the following bucket policy. The policy grants conditional permission to the
    #  Account B administrator permission to upload objects."
    And the bucket policy of "doc-example-bucket1" is:
      """
      { "Version": "2012-10-17", "Statement": [
        { "Sid": "111", "Effect": "Allow", "Principal": { "AWS": "${user:AccountBadmin}" },
          "Action": "s3:PutObject", "Resource": "arn:aws:s3:::${bucket}/*" },
        { "Sid": "112", "Effect": "Deny", "Principal": { "AWS": "${user:AccountBadmin}" },
          "Action": "s3:PutObject", "Resource": "arn:aws:s3:::${bucket}/*",
          "Condition": { "StringNotEquals": { "s3:x-amz-grant-full-control": "id=${canonical:A}" } } } ] }
      """
    # "Step 1.3: ... Enter access-accountA-bucket in the Policy Name field"
    And a managed policy "access-accountA-bucket" in account "A":
      """
      { "Version": "2012-10-17", "Statement": [ { "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::${bucket}/*" } ] }
      """
    # "The following trust policy establishes trust with Account C"
    And a role "examplerole" in account "A" with trust policy:
      """
      { "Version": "2012-10-17", "Statement": [ { "Sid": "", "Effect": "Allow", "Principal": { "AWS": "arn:aws:iam::${C}:root" }, "Action": "sts:AssumeRole" } ] }
      """
    And managed policy "access-accountA-bucket" is attached to role "examplerole"
    # "Step 3.1: Create a user in Account C and delegate permission to assume examplerole"
    And a user "Dave" in account "C" with an access key
    And user "Dave" has inline policy "assume-examplerole":
      """
      { "Version": "2012-10-17", "Statement": [ { "Effect": "Allow", "Action": ["sts:AssumeRole"], "Resource": "${role:examplerole}" } ] }
      """

  Scenario: Step 2 and Step 3 end to end - B uploads granting A full control; Dave's session reads it
    # "aws s3api put-object --bucket DOC-EXAMPLE-BUCKET1 --key HappyFace.jpg --body HappyFace.jpg
    #  --grant-full-control id="canonicalUserId-ofTheBucketOwner" --profile AccountBadmin"
    When "AccountBadmin" puts object "HappyFace.jpg" in bucket "doc-example-bucket1" containing "a happy face" with grant-full-control "id=${canonical:A}"
    Then it succeeds
    # "The --Profile parameter specifies the AccountBadmin profile, so the object is owned by Account B."
    And the owner of object "HappyFace.jpg" in bucket "doc-example-bucket1" is account "B"
    # "The parameter grant-full-control grants the bucket owner full-control permission"
    When "AccountBadmin" gets the ACL of object "HappyFace.jpg" in bucket "doc-example-bucket1"
    Then the ACL grants FULL_CONTROL to account "A"
    And the ACL owner is account "B"
    # "Dave first assumes the examplerole using his own credentials"
    # "aws sts assume-role --role-arn arn:aws:iam::AccountA-ID:role/examplerole --profile AccountCDave --role-session-name test"
    When "Dave" assumes role "examplerole" as session "test"
    Then it succeeds
    And the caller identity ARN is "arn:aws:sts::${A}:assumed-role/${name:examplerole}/test"
    # "aws s3api get-object --bucket DOC-EXAMPLE-BUCKET1 --key HappyFace.jpg SaveFileAs.jpg --profile TempCred"
    When "test" gets object "HappyFace.jpg" from bucket "doc-example-bucket1"
    Then it succeeds
    And the body is "a happy face"
    # "If you try any other action—for example, get-object-acl—you will get permission denied"
    When "test" gets the ACL of object "HappyFace.jpg" in bucket "doc-example-bucket1"
    Then it is denied
    When "test" puts object "other.jpg" in bucket "doc-example-bucket1"
    Then it is denied
    When "test" lists bucket "doc-example-bucket1"
    Then it is denied
    # Without s3:ListBucket a missing key is AccessDenied, not NoSuchKey.
    When "test" gets object "NoSuchFace.jpg" from bucket "doc-example-bucket1"
    Then it is denied

  Scenario: Step 2 without the grant - statement 112 denies the upload
    When "AccountBadmin" puts object "HappyFace.jpg" in bucket "doc-example-bucket1"
    Then it is denied
    # Granting full control to someone other than the bucket owner does not satisfy 112 either.
    When "AccountBadmin" puts object "HappyFace.jpg" in bucket "doc-example-bucket1" with grant-full-control "id=${canonical:B}"
    Then it is denied
    When "AccountBadmin" puts object "HappyFace.jpg" in bucket "doc-example-bucket1" with ACL "bucket-owner-full-control"
    Then it is denied

  Scenario: Without the grant the bucket owner cannot delegate an object it does not own
    # "The bucket owner has no permissions on those objects created by other AWS accounts."
    # With a bucket policy that lacks statement 112, B uploads without granting A anything:
    # the object is B's, and neither A nor A's role can read it.
    Given the bucket policy of "doc-example-bucket1" is:
      """
      { "Version": "2012-10-17", "Statement": [
        { "Sid": "111", "Effect": "Allow", "Principal": { "AWS": "${user:AccountBadmin}" },
          "Action": "s3:PutObject", "Resource": "arn:aws:s3:::${bucket}/*" } ] }
      """
    And "AccountBadmin" puts object "NoGrant.jpg" in bucket "doc-example-bucket1"
    And "Dave" assumes role "examplerole" as session "test"
    When "test" gets object "NoGrant.jpg" from bucket "doc-example-bucket1"
    Then it is denied
    And the owner of object "NoGrant.jpg" in bucket "doc-example-bucket1" is account "B"
    When "A" gets object "NoGrant.jpg" from bucket "doc-example-bucket1"
    Then it is denied

  Scenario: Before Step 3.1's policy, Dave's own account does not let him assume the role
    Given user "Dave" has inline policy "nothing":
      """
      { "Version": "2012-10-17", "Statement": [ { "Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*" } ] }
      """
    When the inline policy "assume-examplerole" of user "Dave" is deleted
    And "Dave" assumes role "examplerole" as session "test"
    Then it is denied
    # Dave's own policy allows only sts:AssumeRole: no direct access to A's bucket.
    When "Dave" gets object "HappyFace.jpg" from bucket "doc-example-bucket1"
    Then it is denied

  Scenario: The bucket policy names the Account B administrator only - another user of B is denied
    Given a user "AccountBOther" in account "B" with an access key
    And user "AccountBOther" has inline policy "administrator":
      """
      { "Version": "2012-10-17", "Statement": [ { "Effect": "Allow", "Action": "*", "Resource": "*" } ] }
      """
    When "AccountBOther" puts object "HappyFace.jpg" in bucket "doc-example-bucket1" with grant-full-control "id=${canonical:A}"
    Then it is denied

  Scenario: "establishing trust with Account C" - not with Account B
    When "AccountBadmin" assumes role "examplerole" as session "b-admin"
    Then it is denied
