"""Reads its inputs, tries to write into the folder input, writes its output."""
import os
import sys

literal, file_in, folder_in, out = sys.argv[1:5]
with open(file_in) as f:
    header = f.readline().strip()
names = sorted(os.listdir(folder_in))
try:
    with open(os.path.join(folder_in, "written-by-job.txt"), "w") as f:
        f.write("x")
    wrote = "yes"
except OSError:
    wrote = "no"
with open(os.path.join(out, "result.txt"), "w") as f:
    f.write(f"{literal}|{header}|{','.join(names)}|{wrote}\n")
print("io ok", literal, header, names, "wrote:", wrote)
