# Throwaway certificate authority for the test peers (POSIX sh, sourced).
#
# make_test_ca DIR
#   Creates DIR (mode 700) holding
#     ca.pem, ca.key          a self-signed CA (EC P-256, 2 days)
#     server.pem, server.key  a server certificate signed by it, valid for
#                             IP:127.0.0.1, IP:::1 and DNS:localhost
#   Keys are created mode 600.  Uses only the openssl CLI.  Returns
#   non-zero with a message on stderr when something fails.

make_test_ca() {
	_ca_dir=${1:?make_test_ca: DIR missing}
	command -v openssl >/dev/null 2>&1 || {
		echo "make_test_ca: openssl not found" >&2
		return 1
	}
	(
		umask 077
		mkdir -p "$_ca_dir" && cd "$_ca_dir" || exit 1
		chmod 700 . || exit 1
		cat >openssl.cnf <<'EOF'
[req]
distinguished_name = dn
prompt = no
[dn]
CN = janee test CA
[ca_ext]
basicConstraints = critical, CA:true, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server_ext]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, IP:::1, DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF
		openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
			-out ca.key 2>err.log &&
			openssl req -new -x509 -config openssl.cnf -extensions ca_ext \
				-key ca.key -days 2 -sha256 -out ca.pem 2>>err.log &&
			openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
				-out server.key 2>>err.log &&
			openssl req -new -config openssl.cnf -subj /CN=127.0.0.1 \
				-key server.key -out server.csr 2>>err.log &&
			openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key \
				-CAcreateserial -days 1 -sha256 -extfile openssl.cnf \
				-extensions server_ext -out server.pem 2>>err.log &&
			chmod 600 ca.key server.key &&
			chmod 644 ca.pem server.pem || {
			echo "make_test_ca: openssl failed:" >&2
			sed 's/^/  /' err.log >&2
			exit 1
		}
		rm -f server.csr ca.srl err.log
	)
}
