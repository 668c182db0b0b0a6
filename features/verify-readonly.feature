# Verifying existing infrastructure after a policy change: seed 002's read-only access, checked
# against what the accounts already hold. Nothing is created or removed, so these scenarios run
# with `ferry check --target aws --accounts accounts.toml --no-provision`, where
# accounts.toml names the reader as [principals.AccountAReader]. On the emulator target they
# run against scenarios/verify-readonly.toml (@world:verify-readonly).
@verify @world:verify-readonly
Feature: Verify - seed 002's read-only role still reads and cannot write

  Background:
    Given accounts "A" and "B"
    And the existing bucket "account-a-data-bucket" in account "A"
    And the existing role "AccountBDataAccessRole" in account "B"
    And the existing principal "AccountAReader" of account "A"
    And "AccountAReader" assumes role "AccountBDataAccessRole" as session "verify"

  Scenario: The role's session lists and downloads
    When "verify" lists bucket "account-a-data-bucket"
    Then it succeeds
    And the listing contains "my-data.txt"
    When "verify" gets object "my-data.txt" from bucket "account-a-data-bucket"
    Then it succeeds

  Scenario Outline: The role's session is read-only: <action> is denied
    When "verify" <action>
    Then it is denied

    Examples:
      | action                                                              |
      | puts object "verify-must-not-exist.txt" in bucket "account-a-data-bucket" |
      | deletes object "verify-must-not-exist.txt" from bucket "account-a-data-bucket" |
      | lists the buckets                                                   |
