# Seed 002 (shared/seeds/002): "S3 cross-account access" - account A's bucket
# account-a-data-bucket is read through AccountBDataAccessRole, a role in account B whose trust
# policy names account A. Where the seed and AWS disagree, AWS's documented behaviour is checked
# (an account ID as Principal delegates to that account's IAM policies).
Feature: Seed 002 - read-only cross-account access through a role

  Background:
    Given accounts "A" and "B"
    # "Imagine AccountA has a bucket named account-a-data-bucket and AccountB needs to read objects from it."
    And a bucket "account-a-data-bucket" in account "A"
    And an object "my-data.txt" in bucket "account-a-data-bucket" containing "id,value"
    # "Next, in AccountB, we create an IAM role, AccountBDataAccessRole ... a trust relationship
    #  that allows AccountA to assume it"
    And a role "AccountBDataAccessRole" in account "B" with trust policy:
      """
      { "Version": "2012-10-17", "Statement": [ { "Effect": "Allow", "Principal": { "AWS": "arn:aws:iam::${A}:root" }, "Action": "sts:AssumeRole" } ] }
      """
    # "The permissions policy attached to AccountBDataAccessRole in AccountB"
    And role "AccountBDataAccessRole" has inline policy "ReadAccountABucket":
      """
      { "Version": "2012-10-17", "Statement": [ { "Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"],
        "Resource": ["arn:aws:s3:::${bucket}", "arn:aws:s3:::${bucket}/*"] } ] }
      """
    # "First, in AccountA, we'll attach a bucket policy to account-a-data-bucket. This policy
    #  grants specific permissions to an IAM role in AccountB."
    And the bucket policy of "account-a-data-bucket" is:
      """
      { "Version": "2012-10-17", "Statement": [ { "Effect": "Allow", "Principal": { "AWS": "${role:AccountBDataAccessRole}" },
        "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": ["arn:aws:s3:::${bucket}", "arn:aws:s3:::${bucket}/*"] } ] }
      """
    # Who may assume it: the trust policy names account A, so a principal of A whose own
    # policy allows sts:AssumeRole.
    And a user "AccountAReader" in account "A" with an access key
    And user "AccountAReader" has inline policy "AssumeAccountBDataAccessRole":
      """
      { "Version": "2012-10-17", "Statement": [ { "Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "${role:AccountBDataAccessRole}" } ] }
      """

  Scenario: "First, assume the role ... Then, list objects in the cross-account bucket, and download an object"
    # "aws sts assume-role --role-arn arn:aws:iam::ACCOUNTB_ID:role/AccountBDataAccessRole --role-session-name "MySession""
    When "AccountAReader" assumes role "AccountBDataAccessRole" as session "MySession"
    Then it succeeds
    When "MySession" calls get-caller-identity
    Then the caller identity ARN is "arn:aws:sts::${B}:assumed-role/${name:AccountBDataAccessRole}/MySession"
    # "aws s3 ls s3://account-a-data-bucket"
    When "MySession" lists bucket "account-a-data-bucket"
    Then it succeeds
    And the listing contains "my-data.txt"
    # "aws s3 cp s3://account-a-data-bucket/my-data.txt ."
    When "MySession" gets object "my-data.txt" from bucket "account-a-data-bucket"
    Then the body is "id,value"
    When "MySession" gets object "missing.txt" from bucket "account-a-data-bucket"
    Then it fails with "NoSuchKey"
    # Listing with a prefix.
    When "MySession" lists bucket "account-a-data-bucket" with prefix "my-"
    Then the listing contains "my-data.txt"
    When "MySession" lists bucket "account-a-data-bucket" with prefix "other/"
    Then it succeeds
    And the listing omits "my-data.txt"

  Scenario Outline: "AccountB needs to read objects" - read-only: <action> is <outcome>
    Given "AccountAReader" assumes role "AccountBDataAccessRole" as session "MySession"
    When "MySession" <action>
    Then the outcome is "<outcome>"

    Examples:
      | action                                                          | outcome |
      | lists bucket "account-a-data-bucket"                            | allowed |
      | gets object "my-data.txt" from bucket "account-a-data-bucket"   | allowed |
      | heads object "my-data.txt" in bucket "account-a-data-bucket"    | allowed |
      | puts object "upload.txt" in bucket "account-a-data-bucket"      | denied  |
      | deletes object "my-data.txt" from bucket "account-a-data-bucket" | denied |
      | lists the buckets                                               | denied  |

  Scenario: "This policy mirrors the permissions granted in the bucket policy" - without the role's own policy, the bucket policy alone is not enough
    Given "AccountAReader" assumes role "AccountBDataAccessRole" as session "MySession"
    When the inline policy "ReadAccountABucket" of role "AccountBDataAccessRole" is deleted
    And "MySession" gets object "my-data.txt" from bucket "account-a-data-bucket"
    Then it is denied

  Scenario: The bucket policy names AccountBDataAccessRole only - another role of B with the same permissions is denied
    Given a role "OtherRole" in account "B" with trust policy:
      """
      { "Version": "2012-10-17", "Statement": [ { "Effect": "Allow", "Principal": { "AWS": "arn:aws:iam::${A}:root" }, "Action": "sts:AssumeRole" } ] }
      """
    And role "OtherRole" has inline policy "ReadAccountABucket":
      """
      { "Version": "2012-10-17", "Statement": [ { "Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"],
        "Resource": ["arn:aws:s3:::${bucket}", "arn:aws:s3:::${bucket}/*"] } ] }
      """
    And user "AccountAReader" has inline policy "AssumeOtherRole":
      """
      { "Version": "2012-10-17", "Statement": [ { "Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "${role:OtherRole}" } ] }
      """
    And "AccountAReader" assumes role "OtherRole" as session "Other"
    When "Other" gets object "my-data.txt" from bucket "account-a-data-bucket"
    Then it is denied

  Scenario: Assuming needs A's own sts:AssumeRole permission (the trust policy names account A)
    Given a user "AccountANoPolicy" in account "A" with an access key
    When "AccountANoPolicy" assumes role "AccountBDataAccessRole" as session "MySession"
    Then it is denied

  Scenario: "a user or application in AccountB can assume AccountBDataAccessRole" does not hold - the trust names account A only
    Given a user "AccountBadmin" in account "B" with an access key
    And user "AccountBadmin" has inline policy "administrator":
      """
      { "Version": "2012-10-17", "Statement": [ { "Effect": "Allow", "Action": "*", "Resource": "*" } ] }
      """
    When "AccountBadmin" assumes role "AccountBDataAccessRole" as session "MySession"
    Then it is denied
    # The bucket policy names the role only: B's administrator is denied too.
    When "AccountBadmin" lists bucket "account-a-data-bucket"
    Then it is denied
    When "AccountBadmin" gets object "my-data.txt" from bucket "account-a-data-bucket"
    Then it is denied

  @emulator-only
  Scenario: "allows the AWS root account of AccountA to initiate the sts:AssumeRole API call" - root credentials cannot assume roles
    When "A" assumes role "AccountBDataAccessRole" as session "MySession"
    Then it is denied

  Scenario: The account-ID principal ("AWS": "ACCOUNTB_ID") works, for every principal of B that B's own policies allow
    # The seed: "you might try to put the AWS: ACCOUNTB_ID directly in the Principal. This will
    # not work as intended". AWS: "AWS": "123456789012" is the whole account, delegated to its
    # IAM policies.
    Given the bucket policy of "account-a-data-bucket" is:
      """
      { "Version": "2012-10-17", "Statement": [ { "Effect": "Allow", "Principal": { "AWS": "${B}" },
        "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": ["arn:aws:s3:::${bucket}", "arn:aws:s3:::${bucket}/*"] } ] }
      """
    And "AccountAReader" assumes role "AccountBDataAccessRole" as session "MySession"
    And a user "AccountBadmin" in account "B" with an access key
    And user "AccountBadmin" has inline policy "administrator":
      """
      { "Version": "2012-10-17", "Statement": [ { "Effect": "Allow", "Action": "*", "Resource": "*" } ] }
      """
    And a user "AccountBNoPolicy" in account "B" with an access key
    When "MySession" lists bucket "account-a-data-bucket"
    Then the listing contains "my-data.txt"
    When "MySession" gets object "my-data.txt" from bucket "account-a-data-bucket"
    Then the body is "id,value"
    When "MySession" puts object "upload.txt" in bucket "account-a-data-bucket"
    Then it is denied
    When "AccountBadmin" gets object "my-data.txt" from bucket "account-a-data-bucket"
    Then the body is "id,value"
    When "AccountBadmin" puts object "upload.txt" in bucket "account-a-data-bucket"
    Then it is denied
    # ... and only those: a user of B without IAM policies is still denied.
    When "AccountBNoPolicy" lists bucket "account-a-data-bucket"
    Then it is denied
    When "AccountBNoPolicy" gets object "my-data.txt" from bucket "account-a-data-bucket"
    Then it is denied
