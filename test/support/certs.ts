// The tests' certificates come from src/util/certificate.ts (made in Node, no openssl; issue 13 item 1).
export { makeCertificate, writeCertificate, type Certificate, type CertificateOptions } from '../../src/util/certificate.ts';
