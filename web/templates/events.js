(function () {
	"use strict";
	var table = document.getElementById("events"), bar = document.getElementById("evfilter");
	if (!table || !bar) {
		return;
	}
	var kind = document.getElementById("evkind"), device = document.getElementById("evdevice"),
		shown = document.getElementById("evshown"), rows = table.tBodies[0].rows;
	// choose selects v, adding it when the page has no row of it (a link to a
	// device or kind without events shows none).
	function choose(sel, v) {
		if (!v) {
			return;
		}
		for (var i = 0; i < sel.options.length; i++) {
			if (sel.options[i].value === v) {
				sel.value = v;
				return;
			}
		}
		var o = document.createElement("option");
		o.value = v;
		o.textContent = v;
		sel.appendChild(o);
		sel.value = v;
	}
	function apply() {
		var k = kind.value, d = device.value, n = 0;
		for (var i = 0; i < rows.length; i++) {
			var r = rows[i];
			var on = (!k || r.getAttribute("data-kind") === k) && (!d || r.getAttribute("data-device") === d);
			r.hidden = !on;
			if (on) {
				n++;
			}
		}
		shown.textContent = n + " of " + rows.length + " shown";
	}
	// remember puts the filter in the URL, so that a reload or a copied link shows
	// the same rows (a file:// page may not be allowed to).
	function remember() {
		var q = new URLSearchParams();
		if (kind.value) {
			q.set("kind", kind.value);
		}
		if (device.value) {
			q.set("device", device.value);
		}
		var s = q.toString();
		try {
			history.replaceState(null, "", s ? "?" + s : location.pathname);
		} catch (e) {
			// the filter still applies
		}
	}
	var q = new URLSearchParams(location.search);
	choose(kind, q.get("kind"));
	choose(device, q.get("device"));
	kind.onchange = device.onchange = function () {
		apply();
		remember();
	};
	bar.hidden = false;
	apply();
})();
