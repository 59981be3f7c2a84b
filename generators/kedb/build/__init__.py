"""``kedb build``: the build context every output reads (``context``) and the run (``run``)."""
