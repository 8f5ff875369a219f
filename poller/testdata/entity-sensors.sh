#!/bin/sh
# net-snmp pass script: three rows of ENTITY-SENSOR-MIB's entPhySensorTable.
awk -v op="$1" -v want="$2" '
function cmp(a, b,   x, y, n, m, i) {
	n = split(a, x, "."); m = split(b, y, ".")
	for (i = 2; i <= n && i <= m; i++) {
		if (x[i] + 0 < y[i] + 0) return -1
		if (x[i] + 0 > y[i] + 0) return 1
	}
	return (n < m) ? -1 : (n > m)
}
BEGIN {
	b = ".1.3.6.1.2.1.99.1.1.1"
	# type: celsius, celsius, rpm; scale: units, milli, units; precision 1, 0, 0
	split("8 8 10 9 8 9 1 0 0 425 38000 5000 1 1 1", v, " ")
	k = 0
	for (c = 1; c <= 5; c++) for (r = 1; r <= 3; r++) { k++; oid[k] = b "." c "." r; val[k] = v[k] }
	for (i = 1; i <= k; i++) {
		if ((op == "-g" && cmp(oid[i], want) == 0) || (op == "-n" && cmp(oid[i], want) > 0)) {
			print oid[i]; print "integer"; print val[i]; exit
		}
	}
}'
