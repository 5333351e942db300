"""Named owners (承办人) of referrals at the education desk and of assignments at an agency."""
