"""Archives in memory: zipfile and tarfile written to BytesIO with fixed timestamps, read back and verified."""

import io
import tarfile
import zipfile
import gzip

FILES = {"readme.txt": b"DPB corpus archive\n", "data/numbers.csv": b"n,square\n" + b"".join(
    f"{n},{n * n}\n".encode() for n in range(5)), "data/empty.bin": b""}

buffer = io.BytesIO()
with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
    for name, content in FILES.items():
        info = zipfile.ZipInfo(name, date_time=(2024, 1, 2, 3, 4, 6))
        archive.writestr(info, content, compress_type=zipfile.ZIP_DEFLATED)
    archive.comment = b"made by the corpus"
print(len(buffer.getvalue()) > 100, zipfile.is_zipfile(buffer))
with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as archive:
    print(archive.namelist(), archive.comment)
    for info in archive.infolist():
        print(f"  {info.filename:18} {info.file_size:4} {info.date_time} crc={info.CRC:08x}")
    print(archive.read("data/numbers.csv").decode().splitlines()[-1], archive.testzip())

tar_buffer = io.BytesIO()
with tarfile.open(fileobj=tar_buffer, mode="w") as archive:
    for name, content in FILES.items():
        info = tarfile.TarInfo(name)
        info.size, info.mtime, info.mode = len(content), 1_700_000_000, 0o644
        archive.addfile(info, io.BytesIO(content))
tar_buffer.seek(0)
with tarfile.open(fileobj=tar_buffer, mode="r") as archive:
    members = archive.getmembers()
    print([(m.name, m.size, oct(m.mode), m.isfile()) for m in members])
    print(archive.extractfile("readme.txt").read())

compressed = gzip.compress(b"x" * 1000, mtime=0)
print(len(compressed), gzip.decompress(compressed) == b"x" * 1000, compressed[:4].hex())
with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as archive:
    archive.read("missing.txt")
