# Seed 000 (shared/seeds/000), "Option1: Resource-based policies and IAM policies": account B's
# user reaches objects in account A's bucket when B's IAM policy (Step3) and A's bucket policy
# (Step4) both allow it; either alone is not enough across accounts.
Feature: Seed 000 option 1 - cross-account object access with a bucket policy and an IAM policy

  Background:
    Given accounts "A" and "B"
    # "Step1: Create an S3 bucket in Account A" (the walkthrough's uploaders grant the bucket
    # owner object permissions with PUT Object acl, so objects belong to their writer)
    And a bucket "accountabucketname" in account "A" with object ownership "ObjectWriter"
    And an object "from-a.txt" in bucket "accountabucketname" containing "written by account A"
    And an object "FolderName/from-a.txt" in bucket "accountabucketname" containing "written by account A into FolderName"
    # "Step2: Create an IAM role or user in Account B."
    And a user "AccountBUserName" in account "B" with an access key

  Scenario: Neither policy yet - B's user is denied
    When "AccountBUserName" puts object "b-upload.txt" in bucket "accountabucketname"
    Then it is denied
    When "AccountBUserName" gets object "from-a.txt" from bucket "accountabucketname"
    Then it is denied

  Scenario: Step3 alone (B's IAM policy, no bucket policy) is not enough across accounts
    Given user "AccountBUserName" has inline policy "AccountABucketAccess":
      """
      {
        "Version": "2012-10-17",
        "Statement": [{
          "Effect": "Allow",
          "Action": ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:PutObjectAcl"],
          "Resource": ["arn:aws:s3:::${bucket}/*", "arn:aws:s3:::${bucket}"]
        }]
      }
      """
    When "AccountBUserName" puts object "b-upload.txt" in bucket "accountabucketname"
    Then it is denied
    When "AccountBUserName" gets object "from-a.txt" from bucket "accountabucketname"
    Then it is denied

  Scenario: Step4 alone (A's bucket policy, no IAM policy in B) is not enough across accounts
    Given the bucket policy of "accountabucketname" is:
      """
      {
        "Version": "2012-10-17",
        "Statement": [{
          "Effect": "Allow",
          "Principal": {"AWS": "${user:AccountBUserName}"},
          "Action": ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:PutObjectAcl"],
          "Resource": ["arn:aws:s3:::${bucket}/*"]
        }]
      }
      """
    When "AccountBUserName" gets object "from-a.txt" from bucket "accountabucketname"
    Then it is denied
    When "AccountBUserName" puts object "b-upload-2.txt" in bucket "accountabucketname"
    Then it is denied

  Scenario: Step3 and Step4 together - "permission to download (GET Object) and upload (PUT Object)"
    Given user "AccountBUserName" has inline policy "AccountABucketAccess":
      """
      {
        "Version": "2012-10-17",
        "Statement": [{
          "Effect": "Allow",
          "Action": ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:PutObjectAcl"],
          "Resource": ["arn:aws:s3:::${bucket}/*", "arn:aws:s3:::${bucket}"]
        }]
      }
      """
    And the bucket policy of "accountabucketname" is:
      """
      {
        "Version": "2012-10-17",
        "Statement": [{
          "Effect": "Allow",
          "Principal": {"AWS": "${user:AccountBUserName}"},
          "Action": ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:PutObjectAcl"],
          "Resource": ["arn:aws:s3:::${bucket}/*"]
        }]
      }
      """
    When "AccountBUserName" puts object "b-upload.txt" in bucket "accountabucketname" containing "uploaded by account B"
    Then it succeeds
    When "AccountBUserName" gets object "b-upload.txt" from bucket "accountabucketname"
    Then the body is "uploaded by account B"
    When "AccountBUserName" gets object "from-a.txt" from bucket "accountabucketname"
    Then it succeeds
    And the body is "written by account A"
    # ObjectWriter: B owns what it uploaded, and A cannot read it until B grants it
    # ("permissions to call PUT Object acl to grant object permissions to the bucket owner").
    And the owner of object "b-upload.txt" in bucket "accountabucketname" is account "B"
    When "A" gets object "b-upload.txt" from bucket "accountabucketname"
    Then it is denied
    When "AccountBUserName" puts ACL "bucket-owner-full-control" on object "b-upload.txt" in bucket "accountabucketname"
    Then it succeeds
    When "A" gets object "b-upload.txt" from bucket "accountabucketname"
    Then the body is "uploaded by account B"
    When "A" gets the ACL of object "b-upload.txt" in bucket "accountabucketname"
    Then the ACL grants FULL_CONTROL to account "A"
    And the ACL owner is account "B"

  Scenario: Both policies grant only the object actions - no delete, no listing, and only the named user
    Given user "AccountBUserName" has inline policy "AccountABucketAccess":
      """
      {
        "Version": "2012-10-17",
        "Statement": [{
          "Effect": "Allow",
          "Action": ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:PutObjectAcl"],
          "Resource": ["arn:aws:s3:::${bucket}/*", "arn:aws:s3:::${bucket}"]
        }]
      }
      """
    And the bucket policy of "accountabucketname" is:
      """
      {
        "Version": "2012-10-17",
        "Statement": [{
          "Effect": "Allow",
          "Principal": {"AWS": "${user:AccountBUserName}"},
          "Action": ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:PutObjectAcl"],
          "Resource": ["arn:aws:s3:::${bucket}/*"]
        }]
      }
      """
    And a user "AccountBOtherUser" in account "B" with an access key
    And user "AccountBOtherUser" has inline policy "AccountABucketAccess":
      """
      { "Version": "2012-10-17", "Statement": [ { "Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": ["arn:aws:s3:::${bucket}/*"] } ] }
      """
    When "AccountBUserName" deletes object "from-a.txt" from bucket "accountabucketname"
    Then it is denied
    When "AccountBUserName" lists bucket "accountabucketname"
    Then it is denied
    When "AccountBOtherUser" gets object "from-a.txt" from bucket "accountabucketname"
    Then it is denied

  Scenario: Taking the IAM policy away again (delete-user-policy) denies B's user
    Given user "AccountBUserName" has inline policy "AccountABucketAccess":
      """
      {
        "Version": "2012-10-17",
        "Statement": [{
          "Effect": "Allow",
          "Action": ["s3:GetObject", "s3:PutObject"],
          "Resource": ["arn:aws:s3:::${bucket}/*"]
        }]
      }
      """
    And the bucket policy of "accountabucketname" is:
      """
      {
        "Version": "2012-10-17",
        "Statement": [{
          "Effect": "Allow",
          "Principal": {"AWS": "${user:AccountBUserName}"},
          "Action": ["s3:GetObject", "s3:PutObject"],
          "Resource": ["arn:aws:s3:::${bucket}/*"]
        }]
      }
      """
    And "AccountBUserName" gets object "from-a.txt" from bucket "accountabucketname"
    When the inline policy "AccountABucketAccess" of user "AccountBUserName" is deleted
    And "AccountBUserName" gets object "from-a.txt" from bucket "accountabucketname"
    Then it is denied

  Scenario Outline: Notes - access limited to "FolderName/*" in the <limited> policy: <action> <key> is <outcome>
    Given user "AccountBUserName" has inline policy "AccountABucketAccess":
      """
      {
        "Version": "2012-10-17",
        "Statement": [{
          "Effect": "Allow",
          "Action": ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:PutObjectAcl"],
          "Resource": ["arn:aws:s3:::${bucket}/<identity resource>"]
        }]
      }
      """
    And the bucket policy of "accountabucketname" is:
      """
      {
        "Version": "2012-10-17",
        "Statement": [{
          "Effect": "Allow",
          "Principal": {"AWS": "${user:AccountBUserName}"},
          "Action": ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:PutObjectAcl"],
          "Resource": ["arn:aws:s3:::${bucket}/<bucket resource>"]
        }]
      }
      """
    When "AccountBUserName" <action> "<key>" <preposition> bucket "accountabucketname"
    Then the outcome is "<outcome>"

    Examples:
      | limited  | identity resource | bucket resource | action      | key                   | preposition | outcome |
      | bucket   | *                 | FolderName/*    | puts object | FolderName/b.txt      | in          | allowed |
      | bucket   | *                 | FolderName/*    | gets object | FolderName/from-a.txt | from        | allowed |
      | bucket   | *                 | FolderName/*    | puts object | outside.txt           | in          | denied  |
      | bucket   | *                 | FolderName/*    | gets object | from-a.txt            | from        | denied  |
      | bucket   | *                 | FolderName/*    | puts object | FolderName2/b.txt     | in          | denied  |
      | identity | FolderName/*      | *               | puts object | FolderName/b.txt      | in          | allowed |
      | identity | FolderName/*      | *               | gets object | FolderName/from-a.txt | from        | allowed |
      | identity | FolderName/*      | *               | puts object | outside.txt           | in          | denied  |
      | identity | FolderName/*      | *               | gets object | from-a.txt            | from        | denied  |
