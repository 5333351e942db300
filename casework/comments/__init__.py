"""Comments on a referral (意见交流) between the parties on the case, with @mentions."""
