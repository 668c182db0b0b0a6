# Object Ownership and ACLs (AWS-RULES 25-27): who owns an object another account uploads,
# and which ACLs a bucket accepts, for each of the three Object Ownership modes.
Feature: Object Ownership modes and ACLs

  Background:
    Given accounts "A" and "B"

  Scenario Outline: <mode>: account B uploads <how> - the object belongs to account <owner>
    Given a bucket "shared" in account "A" with object ownership "<mode>"
    And the bucket policy of "shared" is:
      """
      { "Version": "2012-10-17", "Statement": [ { "Effect": "Allow", "Principal": { "AWS": "${B}" },
        "Action": ["s3:PutObject", "s3:PutObjectAcl", "s3:GetObject"], "Resource": "arn:aws:s3:::${bucket}/*" } ] }
      """
    When "B" puts object "k.txt" in bucket "shared" containing "from B" <acl>
    Then it succeeds
    And the owner of object "k.txt" in bucket "shared" is account "<owner>"
    When "A" gets object "k.txt" from bucket "shared"
    Then the outcome is "<A reads>"

    Examples:
      | mode                 | how                            | acl                                          | owner | A reads |
      | BucketOwnerEnforced  | without an ACL                 | with no ACL                                  | A     | allowed |
      | BucketOwnerEnforced  | with bucket-owner-full-control | with ACL "bucket-owner-full-control"         | A     | allowed |
      | BucketOwnerPreferred | with bucket-owner-full-control | with ACL "bucket-owner-full-control"         | A     | allowed |
      | BucketOwnerPreferred | without an ACL                 | with no ACL                                  | B     | denied  |
      | ObjectWriter         | with bucket-owner-full-control | with ACL "bucket-owner-full-control"         | B     | allowed |
      | ObjectWriter         | granting A full control        | with grant-full-control "id=${canonical:A}"  | B     | allowed |
      | ObjectWriter         | without an ACL                 | with no ACL                                  | B     | denied  |

  Scenario Outline: BucketOwnerEnforced disables ACLs: an upload <how> fails with <code>
    Given a bucket "enforced" in account "A" with object ownership "BucketOwnerEnforced"
    When "A" puts object "k.txt" in bucket "enforced" <acl>
    Then it fails with "<code>"

    Examples:
      | how                      | acl                                        | code                           |
      | with bucket-owner-read   | with ACL "bucket-owner-read"               | AccessControlListNotSupported  |
      | with private             | with ACL "private"                         | AccessControlListNotSupported  |
      | granting B read          | with grant-read "id=${canonical:B}"        | AccessControlListNotSupported  |

  Scenario: BucketOwnerEnforced - reading the ACL works and shows only the owner's FULL_CONTROL; changing it fails
    Given a bucket "enforced" in account "A" with object ownership "BucketOwnerEnforced"
    And an object "k.txt" in bucket "enforced" containing "x"
    When "A" gets the ACL of object "k.txt" in bucket "enforced"
    Then it succeeds
    And the ACL owner is account "A"
    And the ACL grants FULL_CONTROL to account "A"
    And the ACL does not grant READ to account "B"
    When "A" puts ACL "private" on object "k.txt" in bucket "enforced"
    Then it fails with "AccessControlListNotSupported"

  Scenario: ObjectWriter - the object owner grants through its ACL; the bucket policy cannot grant another account's object
    Given a bucket "writer" in account "A" with object ownership "ObjectWriter"
    And the bucket policy of "writer" is:
      """
      { "Version": "2012-10-17", "Statement": [ { "Effect": "Allow", "Principal": { "AWS": "${B}" },
        "Action": ["s3:PutObject", "s3:PutObjectAcl", "s3:GetObject"], "Resource": "arn:aws:s3:::${bucket}/*" } ] }
      """
    And "B" puts object "b.txt" in bucket "writer" containing "B's object"
    # A's own bucket policy allowing A's user does not reach B's object.
    And a user "reader" in account "A" with an access key
    And user "reader" has inline policy "read":
      """
      { "Version": "2012-10-17", "Statement": [ { "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::${bucket}/*" } ] }
      """
    When "reader" gets object "b.txt" from bucket "writer"
    Then it is denied
    When "B" puts ACL "bucket-owner-full-control" on object "b.txt" in bucket "writer"
    Then it succeeds
    When "reader" gets object "b.txt" from bucket "writer"
    Then the body is "B's object"
    When "B" gets the ACL of object "b.txt" in bucket "writer"
    Then the ACL grants FULL_CONTROL to account "A"
    And the ACL grants FULL_CONTROL to account "B"
    And the ACL owner is account "B"

  Scenario: Server-side copy and multipart uploads follow the same ownership rules
    Given a bucket "preferred" in account "A" with object ownership "BucketOwnerPreferred"
    And an object "src.txt" in bucket "preferred" containing "source"
    And the bucket policy of "preferred" is:
      """
      { "Version": "2012-10-17", "Statement": [ { "Effect": "Allow", "Principal": { "AWS": "${B}" },
        "Action": ["s3:PutObject", "s3:GetObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
        "Resource": "arn:aws:s3:::${bucket}/*" } ] }
      """
    When "B" copies object "src.txt" in bucket "preferred" to "copy-owned-by-b.txt" in bucket "preferred"
    Then it succeeds
    And the owner of object "copy-owned-by-b.txt" in bucket "preferred" is account "B"
    When "B" copies object "src.txt" in bucket "preferred" to "copy-owned-by-a.txt" in bucket "preferred" with ACL "bucket-owner-full-control"
    Then it succeeds
    And the owner of object "copy-owned-by-a.txt" in bucket "preferred" is account "A"
    When "B" uploads object "big.bin" to bucket "preferred" in 2 parts with ACL "bucket-owner-full-control"
    Then it succeeds
    And the owner of object "big.bin" in bucket "preferred" is account "A"
    When "B" uploads object "big-b.bin" to bucket "preferred" in 2 parts
    Then it succeeds
    And the owner of object "big-b.bin" in bucket "preferred" is account "B"
