# Seed 003 (shared/seeds/003): "Cross Account S3 Bucket Access" - users of account A may only
# upload (not download) into account B's bucket, through a role in A. Every step quotes the
# walkthrough's text it checks; the policies are the walkthrough's, with ${...} placeholders.
Feature: Seed 003 - upload-only access to account B's bucket through a role in account A

  Background:
    Given accounts "A" and "B"
    # "Step 1 Prep Account B: Create an S3 bucket in account B called account-b-bucket,
    #  blocking all public access" (new buckets block public access by default)
    And a bucket "account-b-bucket" in account "B"
    # "Step 2 Prep Account A: Create a user ... called bobbytables. Save the key and secret"
    And a user "bobbytables" in account "A" with an access key
    # "create a new IAM role with a custom trust policy ... Name it account-a-s3-role"
    And a role "account-a-s3-role" in account "A" with trust policy:
      """
      {
        "Version": "2012-10-17",
        "Statement": [{
          "Sid": "",
          "Effect": "Allow",
          "Principal": {"Service": "s3.amazonaws.com", "AWS": "${user:bobbytables}"},
          "Action": "sts:AssumeRole"
        }]
      }
      """
    # "Still in account A, Setup an inline IAM Policy in the ROLE"
    And role "account-a-s3-role" has inline policy "account-b-bucket-upload":
      """
      {
        "Version": "2012-10-17",
        "Statement": [{
          "Effect": "Allow",
          "Action": ["s3:PutObject", "s3:PutObjectAcl"],
          "Resource": ["arn:aws:s3:::${bucket}/foo/*", "arn:aws:s3:::${bucket}/fighters/*"]
        }]
      }
      """
    # "You will need to come back after creating the role in step 2 to fill in the principal arn"
    And the bucket policy of "account-b-bucket" is:
      """
      {
        "Version": "2012-10-17",
        "Statement": [{
          "Effect": "Allow",
          "Principal": {"AWS": "${role:account-a-s3-role}"},
          "Action": ["s3:PutObject", "s3:PutObjectAcl"],
          "Resource": ["arn:aws:s3:::${bucket}/foo*", "arn:aws:s3:::${bucket}/fighters*"]
        }]
      }
      """

  Scenario: Step 1 before step 2 - the bucket policy cannot name a role that does not exist yet
    Given a bucket "second-bucket" in account "B"
    When "B" sets the bucket policy of "second-bucket" to:
      """
      {
        "Version": "2012-10-17",
        "Statement": [{
          "Effect": "Allow",
          "Principal": {"AWS": "arn:aws:iam::${A}:role/no-such-role-${run}"},
          "Action": "s3:PutObject",
          "Resource": "arn:aws:s3:::${bucket:second-bucket}/foo*"
        }]
      }
      """
    Then it fails with "MalformedPolicy"

  Scenario: Step 3 - assume the role with the bobbytables credentials; get-caller-identity shows the session
    # "aws sts assume-role --role-arn ... --role-session-name BenAWSCLI-Session --profile s3-test"
    When "bobbytables" assumes role "account-a-s3-role" as session "BenAWSCLI-Session"
    Then it succeeds
    # "Ensure you have the correct role assumed by using the aws client aws sts get-caller-identity"
    When "BenAWSCLI-Session" calls get-caller-identity
    Then it succeeds
    And the caller identity ARN is "arn:aws:sts::${A}:assumed-role/${name:account-a-s3-role}/BenAWSCLI-Session"

  Scenario: Step 3 - "then try uploading a file": uploads under foo/ and fighters/ are allowed
    Given "bobbytables" assumes role "account-a-s3-role" as session "BenAWSCLI-Session"
    # "aws s3 cp test.txt s3://account-b-bucket/foo/test.txt"
    When "BenAWSCLI-Session" puts object "foo/test.txt" in bucket "account-b-bucket" containing "hello from account A"
    Then it succeeds
    When "BenAWSCLI-Session" puts object "fighters/test.txt" in bucket "account-b-bucket"
    Then it succeeds
    When "BenAWSCLI-Session" puts object "fighters/everlong.txt" in bucket "account-b-bucket" with ACL "bucket-owner-full-control"
    Then it succeeds
    # The bucket owner enforces ownership: B owns what A's session uploaded, and reads it.
    And the owner of object "foo/test.txt" in bucket "account-b-bucket" is account "B"
    When "B" gets object "foo/test.txt" from bucket "account-b-bucket"
    Then the body is "hello from account A"

  Scenario Outline: "users from Account A could only upload (but not download)": <action> <key> is <outcome>
    Given an object "foo/existing.txt" in bucket "account-b-bucket" containing "B's data"
    And "bobbytables" assumes role "account-a-s3-role" as session "BenAWSCLI-Session"
    When "BenAWSCLI-Session" <action> "<key>" <preposition> bucket "account-b-bucket"
    Then the outcome is "<outcome>"

    Examples:
      | action         | key              | preposition | outcome |
      | puts object    | foo/a.txt        | in          | allowed |
      | puts object    | fighters/a.txt   | in          | allowed |
      | puts object    | bar/test.txt     | in          | denied  |
      | puts object    | test.txt         | in          | denied  |
      | puts object    | foobar.txt       | in          | denied  |
      | gets object    | foo/existing.txt | from        | denied  |
      | heads object   | foo/existing.txt | in          | denied  |
      | deletes object | foo/existing.txt | from        | denied  |

  Scenario: Upload only - listing the bucket is denied
    Given "bobbytables" assumes role "account-a-s3-role" as session "BenAWSCLI-Session"
    When "BenAWSCLI-Session" lists bucket "account-b-bucket"
    Then it is denied

  Scenario: The trust policy names bobbytables only - another user of A cannot assume the role
    Given a user "alice" in account "A" with an access key
    And user "alice" has inline policy "assume":
      """
      { "Version": "2012-10-17", "Statement": [ { "Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "${role:account-a-s3-role}" } ] }
      """
    When "alice" assumes role "account-a-s3-role" as session "alice"
    Then it is denied

  Scenario: Without the role, bobbytables cannot upload (the bucket policy names the role only)
    When "bobbytables" puts object "foo/test.txt" in bucket "account-b-bucket"
    Then it is denied
