"""Delivery for nightly runs: one message built from the report (and the baseline), rendered
for Slack, Teams, a generic webhook, SNS or SES email, and findings imported into Security Hub.

A delivery never loses the report and never changes the exit code: every target's outcome is a
`Delivery` result, failures included. Each AWS path has its own client allowed exactly one
write (`auditor.deliver.clients`)."""
