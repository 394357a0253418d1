"""Notices to the applicant (一跟到底): at the steps of a case that matter to the person who
brought it, through the outbox to an SMS (or other) provider."""
