"""The three administrators' pages (三权分立): system, security (clock rules) and audit administrators."""
