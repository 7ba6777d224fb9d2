"""Sample inputs the studio makes itself: the size of every flexible dim (sizes.py) and values
that mean something to each input (synthetic.py)."""
