"""Shared by the benchmarks' build scripts, which run in a subprocess as source text (bench/maps.py, bench/web.py):
a synthetic DTSEN extract cut into parts, as a regency sends it (uploads are capped at 250 MB)."""

SPLIT = """
def split(path, rows=400_000):
    # parts of at most ~rows rows, cut between families (id_keluarga, the first column), header in each
    import csv
    parts, writer, handle, count, last = [], None, None, 0, None
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        for row in reader:
            if writer is None or (count >= rows and row[0] != last):
                if handle:
                    handle.close()
                parts.append(path.with_name(f"{path.stem}_{len(parts) + 1}.csv"))
                handle = parts[-1].open("w", encoding="utf-8", newline="")
                writer, count = csv.writer(handle), 0
                writer.writerow(header)
            writer.writerow(row)
            count, last = count + 1, row[0]
    handle.close()
    return parts
"""
