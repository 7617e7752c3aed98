from prometheus_client import Counter

UPLOAD_BYTES = Counter("imagesearch_upload_bytes_total", "bytes of files received in uploads")
UPLOAD_FILES = Counter("imagesearch_upload_files_total", "files received, by outcome", ["status"])
