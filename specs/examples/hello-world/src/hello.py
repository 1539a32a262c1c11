"""Print a greeting: the smallest job there is."""

import argparse

parser = argparse.ArgumentParser()
parser.add_argument("--greeting", default="hello world")
print(parser.parse_args().greeting)
