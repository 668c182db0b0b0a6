# `ferry copy` between accounts, one identity per side: a read-only role in the source
# account, an upload-only role in the destination account, a destination bucket policy that
# requires bucket-owner-full-control, and who owns the copies under each Object Ownership mode.
Feature: ferry copy across accounts

  Background:
    Given accounts "A" and "B"
    And a bucket "copy-source" in account "A"
    And an object "data/a.txt" in bucket "copy-source" containing "alpha"
    And an object "data/b.txt" in bucket "copy-source" containing "beta"
    # The operator who runs the copy: a user of account A allowed to assume roles.
    And a user "operator" in account "A" with an access key
    And user "operator" has inline policy "assume-roles":
      """
      { "Version": "2012-10-17", "Statement": [ { "Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*" } ] }
      """
    # Read-only source role in A.
    And a role "source-reader" in account "A" with trust policy:
      """
      { "Version": "2012-10-17", "Statement": [ { "Effect": "Allow", "Principal": { "AWS": "${user:operator}" }, "Action": "sts:AssumeRole" } ] }
      """
    And role "source-reader" has inline policy "read-source":
      """
      { "Version": "2012-10-17", "Statement": [
        { "Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": "arn:aws:s3:::${bucket:copy-source}" },
        { "Effect": "Allow", "Action": ["s3:GetObject", "s3:GetObjectTagging"], "Resource": "arn:aws:s3:::${bucket:copy-source}/*" } ] }
      """
    And "operator" assumes role "source-reader" as session "reader"

  Scenario: Upload-only destination role, destination policy requiring bucket-owner-full-control: the copy succeeds and B owns the copies
    Given a bucket "copy-dest" in account "B"
    And the bucket policy of "copy-dest" is:
      """
      { "Version": "2012-10-17", "Statement": [ { "Sid": "RequireBucketOwnerFullControl", "Effect": "Deny", "Principal": "*",
        "Action": "s3:PutObject", "Resource": "arn:aws:s3:::${bucket}/*",
        "Condition": { "StringNotEquals": { "s3:x-amz-acl": "bucket-owner-full-control" } } } ] }
      """
    And a role "dest-writer" in account "B" with trust policy:
      """
      { "Version": "2012-10-17", "Statement": [ { "Effect": "Allow", "Principal": { "AWS": "${user:operator}" }, "Action": "sts:AssumeRole" } ] }
      """
    And role "dest-writer" has inline policy "upload-only":
      """
      { "Version": "2012-10-17", "Statement": [ { "Effect": "Allow", "Action": ["s3:PutObject", "s3:AbortMultipartUpload"], "Resource": "arn:aws:s3:::${bucket:copy-dest}/*" } ] }
      """
    And "operator" assumes role "dest-writer" as session "writer"
    When "reader" and "writer" run "ferry copy s3://${bucket:copy-source}/data/ s3://${bucket:copy-dest}/data/"
    Then it succeeds
    And 2 objects were copied
    And the owner of object "data/a.txt" in bucket "copy-dest" is account "B"
    When "B" gets object "data/b.txt" from bucket "copy-dest"
    Then the body is "beta"
    # Upload only: the writer cannot read back or list what it wrote.
    When "writer" gets object "data/a.txt" from bucket "copy-dest"
    Then it is denied
    When "writer" lists bucket "copy-dest"
    Then it is denied
    # Without bucket-owner-full-control the destination's policy refuses every write.
    When "reader" and "writer" run "ferry copy s3://${bucket:copy-source}/data/ s3://${bucket:copy-dest}/again/ --acl none"
    Then it is denied

  Scenario: The read-only source role cannot write the destination
    Given a bucket "copy-dest" in account "A"
    When "reader" and "reader" run "ferry copy s3://${bucket:copy-source}/data/ s3://${bucket:copy-dest}/data/"
    Then it is denied
    When "reader" deletes object "data/a.txt" from bucket "copy-source"
    Then it is denied

  Scenario Outline: Who owns what a role of account A copies into B's <mode> bucket <how>
    Given a bucket "owned" in account "B" with object ownership "<mode>"
    And a role "a-writer" in account "A" with trust policy:
      """
      { "Version": "2012-10-17", "Statement": [ { "Effect": "Allow", "Principal": { "AWS": "${user:operator}" }, "Action": "sts:AssumeRole" } ] }
      """
    And role "a-writer" has inline policy "write-b":
      """
      { "Version": "2012-10-17", "Statement": [ { "Effect": "Allow", "Action": ["s3:PutObject", "s3:PutObjectAcl"], "Resource": "arn:aws:s3:::${bucket:owned}/*" } ] }
      """
    And the bucket policy of "owned" is:
      """
      { "Version": "2012-10-17", "Statement": [ { "Effect": "Allow", "Principal": { "AWS": "${role:a-writer}" },
        "Action": ["s3:PutObject", "s3:PutObjectAcl"], "Resource": "arn:aws:s3:::${bucket:owned}/*" } ] }
      """
    And "operator" assumes role "a-writer" as session "a-writer-session"
    When "reader" and "a-writer-session" run "ferry copy s3://${bucket:copy-source}/data/ s3://${bucket:owned}/data/ <flags>"
    Then it succeeds
    And the owner of object "data/a.txt" in bucket "owned" is account "<owner>"

    Examples:
      | mode                 | how                                | flags       | owner |
      | BucketOwnerEnforced  | with no ACL                        | --acl none  | B     |
      | BucketOwnerEnforced  | with bucket-owner-full-control     |             | B     |
      | BucketOwnerPreferred | with bucket-owner-full-control     |             | B     |
      | BucketOwnerPreferred | with no ACL                        | --acl none  | A     |
      | ObjectWriter         | with bucket-owner-full-control     |             | A     |

  Scenario: An empty source prefix copies nothing and succeeds
    Given a bucket "copy-dest" in account "A"
    When "reader" and "reader" run "ferry copy s3://${bucket:copy-source}/nothing/ s3://${bucket:copy-dest}/nothing/"
    Then it succeeds
    And 0 objects were copied

  Scenario: ferry sync copies what is missing, then nothing; --delete removes what the source lacks
    Given a bucket "sync-dest" in account "B"
    And an object "data/old.txt" in bucket "sync-dest" containing "stale"
    When "reader" and "B" run "ferry sync s3://${bucket:copy-source}/data/ s3://${bucket:sync-dest}/data/"
    Then it succeeds
    And 2 objects were copied
    When "reader" and "B" run "ferry sync s3://${bucket:copy-source}/data/ s3://${bucket:sync-dest}/data/"
    Then it succeeds
    And 0 objects were copied
    When "B" gets object "data/old.txt" from bucket "sync-dest"
    Then the body is "stale"
    When "reader" and "B" run "ferry sync s3://${bucket:copy-source}/data/ s3://${bucket:sync-dest}/data/ --delete"
    Then it succeeds
    When "B" gets object "data/old.txt" from bucket "sync-dest"
    Then it fails with "NoSuchKey"

  Scenario: ferry sync needs to list the destination - an upload-only role cannot sync
    Given a bucket "sync-dest" in account "B"
    And a role "dest-writer" in account "B" with trust policy:
      """
      { "Version": "2012-10-17", "Statement": [ { "Effect": "Allow", "Principal": { "AWS": "${user:operator}" }, "Action": "sts:AssumeRole" } ] }
      """
    And role "dest-writer" has inline policy "upload-only":
      """
      { "Version": "2012-10-17", "Statement": [ { "Effect": "Allow", "Action": ["s3:PutObject"], "Resource": "arn:aws:s3:::${bucket:sync-dest}/*" } ] }
      """
    And "operator" assumes role "dest-writer" as session "writer"
    When "reader" and "writer" run "ferry sync s3://${bucket:copy-source}/data/ s3://${bucket:sync-dest}/data/"
    Then it is denied
