"""Prices: the embedded price book (`book`), EC2 instance prices (`ec2`), Fargate sizes
(`fargate`), the local price cache scans read (`cache`) and the Price List API refresh that
writes it (`refresh`, run only by `auditor pricing refresh`)."""
