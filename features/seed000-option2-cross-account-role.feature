# Seed 000 (shared/seeds/000), "Option2: Cross-account IAM roles": a role in account A, trusted
# by one user of account B, with an access policy for A's bucket; B's user assumes it.
Feature: Seed 000 option 2 - cross-account IAM role

  Background:
    Given accounts "A" and "B"
    And a bucket "accountabucketname" in account "A"
    And an object "report.txt" in bucket "accountabucketname" containing "quarterly numbers, owned by account A"
    And a user "AccountBUserName" in account "B" with an access key
    # "Step1: Create an IAM role in Account A ... In the role's trust policy, grant a role or
    #  user from Account B permissions to assume the role in Account A"
    And a role "AccountARole" in account "A" with trust policy:
      """
      { "Version": "2012-10-17", "Statement": [ { "Effect": "Allow", "Principal": { "AWS": "${user:AccountBUserName}" }, "Action": "sts:AssumeRole" } ] }
      """
    # "The following access policy allows a user who has assumed this role to download and upload objects"
    And a managed policy "AccountARoleAccess" in account "A":
      """
      {
        "Version": "2012-10-17",
        "Statement": [
          { "Action": ["s3:ListAllMyBuckets"], "Effect": "Allow", "Resource": ["arn:aws:s3:::*"] },
          { "Action": ["s3:ListBucket", "s3:GetBucketLocation"], "Effect": "Allow",
            "Resource": ["arn:aws:s3:::${bucket}/*", "arn:aws:s3:::${bucket}"] },
          { "Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"],
            "Resource": ["arn:aws:s3:::${bucket}/*", "arn:aws:s3:::${bucket}"] }
        ]
      }
      """
    And managed policy "AccountARoleAccess" is attached to role "AccountARole"
    # "Step2: Grant an IAM user or role in Account B permission to assume the IAM role"
    And a managed policy "AssumeAccountARole" in account "B":
      """
      { "Version": "2012-10-17", "Statement": { "Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "${role:AccountARole}" } }
      """

  Scenario: Step1 before B's user exists - a trust policy naming a missing principal is refused
    When "A" creates role "OtherRole" with trust policy:
      """
      { "Version": "2012-10-17", "Statement": [ { "Effect": "Allow", "Principal": { "AWS": "arn:aws:iam::${B}:user/NoSuchUser-${run}" }, "Action": "sts:AssumeRole" } ] }
      """
    Then it fails with "MalformedPolicyDocument"

  Scenario: Before Step2 - B's user has no sts:AssumeRole of its own (cross account needs both sides)
    When "AccountBUserName" assumes role "AccountARole" as session "early"
    Then it is denied

  Scenario: Step3 - B's user assumes the role; the session lists, reads and writes A's bucket
    Given managed policy "AssumeAccountARole" is attached to user "AccountBUserName"
    When "AccountBUserName" assumes role "AccountARole" as session "AccountBUserSession"
    Then it succeeds
    When "AccountBUserSession" calls get-caller-identity
    Then the caller identity ARN is "arn:aws:sts::${A}:assumed-role/${name:AccountARole}/AccountBUserSession"
    # s3:ListAllMyBuckets
    When "AccountBUserSession" lists the buckets
    Then it succeeds
    And the listing contains bucket "accountabucketname"
    # s3:ListBucket
    When "AccountBUserSession" lists bucket "accountabucketname"
    Then the listing contains "report.txt"
    # s3:GetBucketLocation (us-east-1 has no location constraint)
    When "AccountBUserSession" gets the location of bucket "accountabucketname"
    Then it succeeds
    # s3:GetObject and s3:PutObject
    When "AccountBUserSession" gets object "report.txt" from bucket "accountabucketname"
    Then the body is "quarterly numbers, owned by account A"
    When "AccountBUserSession" puts object "from-b/upload.txt" in bucket "accountabucketname" containing "uploaded through AccountARole"
    Then it succeeds
    When "AccountBUserSession" gets object "from-b/upload.txt" from bucket "accountabucketname"
    Then the body is "uploaded through AccountARole"
    # The session acts in account A, so A owns what it uploads.
    And the owner of object "from-b/upload.txt" in bucket "accountabucketname" is account "A"
    # With s3:ListBucket, a missing key is NoSuchKey.
    When "AccountBUserSession" gets object "missing.txt" from bucket "accountabucketname"
    Then it fails with "NoSuchKey"

  Scenario Outline: The session can do nothing else the access policy does not list: <action>
    Given managed policy "AssumeAccountARole" is attached to user "AccountBUserName"
    And "AccountBUserName" assumes role "AccountARole" as session "AccountBUserSession"
    When "AccountBUserSession" <action>
    Then it is denied

    Examples:
      | action                                                             |
      | deletes object "report.txt" from bucket "accountabucketname"       |
      | gets the ACL of object "report.txt" in bucket "accountabucketname" |

  Scenario: Without the role, B's user cannot reach A's bucket
    Given managed policy "AssumeAccountARole" is attached to user "AccountBUserName"
    When "AccountBUserName" lists bucket "accountabucketname"
    Then it is denied
    When "AccountBUserName" gets object "report.txt" from bucket "accountabucketname"
    Then it is denied
    # ListBuckets shows only the caller's own account's buckets.
    When "B" lists the buckets
    Then the listing omits bucket "accountabucketname"

  Scenario: Untrusted callers are denied - the trust policy names only AccountBUserName
    Given a user "AccountBOtherUser" in account "B" with an access key
    And managed policy "AssumeAccountARole" is attached to user "AccountBOtherUser"
    When "AccountBOtherUser" assumes role "AccountARole" as session "other"
    Then it is denied
    Given accounts "C"
    And a user "AccountCUser" in account "C" with an access key
    And user "AccountCUser" has inline policy "assume":
      """
      { "Version": "2012-10-17", "Statement": { "Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "${role:AccountARole}" } }
      """
    When "AccountCUser" assumes role "AccountARole" as session "c-user"
    Then it is denied

  Scenario: The trust policy names the user, not its name - a recreated AccountBUserName cannot assume the role
    Given managed policy "AssumeAccountARole" is attached to user "AccountBUserName"
    And user "AccountBUserName" is deleted
    And a user "AccountBUserName" in account "B" with an access key
    And managed policy "AssumeAccountARole" is attached to user "AccountBUserName"
    When "AccountBUserName" assumes role "AccountARole" as session "again"
    Then it is denied

  Scenario Outline: Permission matrix - <principal> <action> is <outcome>
    Given managed policy "AssumeAccountARole" is attached to user "AccountBUserName"
    And "AccountBUserName" assumes role "AccountARole" as session "AccountBUserSession"
    When "<principal>" <action>
    Then the outcome is "<outcome>"

    Examples:
      | principal           | action                                                        | outcome |
      | AccountBUserSession | gets object "report.txt" from bucket "accountabucketname"     | allowed |
      | AccountBUserSession | puts object "new.txt" in bucket "accountabucketname"          | allowed |
      | AccountBUserSession | lists bucket "accountabucketname"                             | allowed |
      | AccountBUserName    | gets object "report.txt" from bucket "accountabucketname"     | denied  |
      | AccountBUserName    | puts object "new.txt" in bucket "accountabucketname"          | denied  |
      | AccountBUserName    | lists bucket "accountabucketname"                             | denied  |
      | B                   | gets object "report.txt" from bucket "accountabucketname"     | denied  |
      | A                   | gets object "report.txt" from bucket "accountabucketname"     | allowed |

  Scenario: A session policy narrows what the role's session may do (rule 6: the role's policies intersected with the session policy)
    Given managed policy "AssumeAccountARole" is attached to user "AccountBUserName"
    When "AccountBUserName" assumes role "AccountARole" as session "ReadOnlySession" with session policy:
      """
      { "Version": "2012-10-17", "Statement": [ { "Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": "*" } ] }
      """
    Then it succeeds
    When "ReadOnlySession" gets object "report.txt" from bucket "accountabucketname"
    Then the body is "quarterly numbers, owned by account A"
    When "ReadOnlySession" puts object "from-b/upload.txt" in bucket "accountabucketname"
    Then it is denied

  Scenario: Hardening beyond the seed - a trust policy requiring an external ID
    Given a role "ExternalIdRole" in account "A" with trust policy:
      """
      { "Version": "2012-10-17", "Statement": [ { "Effect": "Allow", "Principal": { "AWS": "${user:AccountBUserName}" },
        "Action": "sts:AssumeRole", "Condition": { "StringEquals": { "sts:ExternalId": "ferry-${run}" } } } ] }
      """
    And user "AccountBUserName" has inline policy "assume-external":
      """
      { "Version": "2012-10-17", "Statement": [ { "Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "${role:ExternalIdRole}" } ] }
      """
    When "AccountBUserName" assumes role "ExternalIdRole" as session "no-id"
    Then it is denied
    When "AccountBUserName" assumes role "ExternalIdRole" as session "wrong-id" with external ID "guess"
    Then it is denied
    When "AccountBUserName" assumes role "ExternalIdRole" as session "with-id" with external ID "ferry-${run}"
    Then it succeeds
    And the caller identity ARN is "arn:aws:sts::${A}:assumed-role/${name:ExternalIdRole}/with-id"
