# Sourced by the object-storage benchmarks (benches/dataset.sh, benches/object_store.sh):
# starts moto's S3-protocol server on a free loopback port (tests/s3/moto_server.py, with
# LATENCY_MS per response, default 0), points the AWS variables at it, waits for it, creates
# the bucket runlens-bench, and stops it and removes $work when the script exits.
# Needs $root (the repository) and $work (the script's temporary folder).
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 "$root/tests/s3/moto_server.py" "$port" "${LATENCY_MS:-0}" > "$work/moto.log" 2>&1 &
moto=$!
trap 'kill $moto 2>/dev/null || true; rm -rf "$work"' EXIT
export AWS_ENDPOINT_URL=http://127.0.0.1:$port AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_REGION=us-east-1
for _ in $(seq 50); do
  python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 1)" 2>/dev/null && break
  sleep 0.2
done
python3 -c "import boto3; boto3.client('s3').create_bucket(Bucket='runlens-bench')"
