"""Live diagnosis of a deployed stack: readers (what AWS says), causes (what it means), rendering."""
