"""The computational graph: hash-consed SSA nodes with shapes."""
