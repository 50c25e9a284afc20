#!/bin/sh
# image_size.sh: the size report of make image: text, rodata, data and bss of the full kernel
# and of the shrunk image, their loadable bytes (text + rodata + data: what the boot loader
# copies from the file; bss is only zeroed), and the same per source folder from the link maps.
# Usage: image_size.sh FULL.elf FULL.map IMAGE.elf IMAGE.map
set -u
[ $# -eq 4 ] || { echo "usage: image_size.sh FULL.elf FULL.map IMAGE.elf IMAGE.map" >&2; exit 1; }

# Input sections of a GNU ld map as "folder class bytes": class is text, rodata (with
# .eh_frame), data or bss; folder is core/<job>, kernel or shim/kernel. A section whose name is
# too long for its column puts its address, size and file on the next line.
sections() {
	awk '
	/^Linker script and memory map/ { on = 1; next }
	!on { next }
	function take(name, size, file,   class, folder, n, parts) {
		if (name ~ /^\.text/) class = "text"
		else if (name ~ /^\.(rodata|eh_frame)/) class = "rodata"
		else if (name ~ /^\.(data|got)/) class = "data"
		else if (name ~ /^\.bss/ || name == "COMMON") class = "bss"
		else return
		n = split(file, parts, "/")
		if (n >= 3 && parts[n - 2] == "core") folder = "core/" parts[n - 1]
		else if (n >= 2 && parts[n - 1] == "kernel") folder = "kernel"
		else return
		print folder, class, strtonum_hex(size)
	}
	function strtonum_hex(s,   v, i, c) {
		v = 0
		s = tolower(substr(s, 3))
		for (i = 1; i <= length(s); i++) {
			c = index("0123456789abcdef", substr(s, i, 1)) - 1
			v = v * 16 + c
		}
		return v
	}
	/^ [.A-Z]/ {
		if (NF >= 4 && $2 ~ /^0x/) take($1, $3, $4)
		else if (NF == 1) pending = $1
		next
	}
	pending != "" && NF == 3 && $1 ~ /^0x/ { take(pending, $2, $3) }
	{ pending = "" }
	' "$1"
}

# text rodata data bss of an ELF's allocated sections.
totals() {
	size -A "$1" | awk '
	$1 ~ /^\.text/ { t += $2 } $1 ~ /^\.(rodata|eh_frame)/ { r += $2 }
	$1 ~ /^\.data/ { d += $2 } $1 ~ /^\.bss/ { b += $2 }
	END { print t + 0, r + 0, d + 0, b + 0 }'
}

full=$(totals "$1") image=$(totals "$3")
{
	echo "T full $full"
	echo "T image $image"
	sections "$2" | sed 's/^/F full /'
	sections "$4" | sed 's/^/F image /'
} | awk -v full_elf="$1" -v image_elf="$3" '
function row(label, k, elf) {
	printf "%-21s %9d %9d %9d %9d %9d  %s\n", label, t[k], r[k], d[k], b[k], t[k] + r[k] + d[k], elf
}
$1 == "T" { t[$2] = $3; r[$2] = $4; d[$2] = $5; b[$2] = $6; next }
{ folders[$3] = 1; s[$2, $3, $4] += $5; if ($2 == "image" && $3 ~ /^core/) core_image += $5 }
END {
	printf "size report (bytes)   %9s %9s %9s %9s %9s\n", "text", "rodata", "data", "bss", "loadable"
	row("full kernel", "full", full_elf)
	row("shrunk image", "image", image_elf)
	lf = t["full"] + r["full"] + d["full"]; li = t["image"] + r["image"] + d["image"]
	printf "loadable bytes: %d%% of the full kernel\n", lf ? int(100 * li / lf + 0.5) : 0
	if (!core_image) {
		print "per folder: none (the map names LTO partitions, not sources)"
		exit
	}
	printf "per folder, full -> image:\n"
	n = 0
	for (f in folders) list[++n] = f
	for (i = 2; i <= n; i++) # insertion sort: a few folders
		for (j = i; j > 1 && list[j - 1] > list[j]; j--) {
			x = list[j]; list[j] = list[j - 1]; list[j - 1] = x
		}
	for (i = 1; i <= n; i++) {
		f = list[i]
		printf "  %-15s", f
		split("text rodata data bss", cl, " ")
		for (c = 1; c <= 4; c++)
			printf " %s %d->%d", cl[c], s["full", f, cl[c]], s["image", f, cl[c]]
		printf "\n"
	}
}'
