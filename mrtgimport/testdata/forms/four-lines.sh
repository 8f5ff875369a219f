#!/bin/sh
# An MRTG backtick target: prints in and out (the two numbers of the file named by its
# first argument), an uptime and a name, one to a line.
read -r in out < "$1" || exit 1
echo "$in"
echo "$out"
echo "3 days, 4:05"
echo "forms-test"
