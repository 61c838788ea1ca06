"""Collection: the only code that holds boto3 clients. One pass per account and region,
paginated list/describe calls into the frozen `Inventory`, then one batched metrics pass."""
