"""The performance benchmark: the mart and its verification against the natural alternatives (`make bench`)."""
