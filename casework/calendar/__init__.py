"""The official holiday calendar (public holidays and make-up working days per year) and legal periods."""
