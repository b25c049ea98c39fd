"""What the tests share: example repositories, their records, and ways to run the command on them."""
