/**
 * Throwaway TLS certificates for the tests, made with `openssl` (Debian's,
 * which .ci/run installs). Without openssl the tests fail saying so; they
 * never pass silently.
 * @module
 */

/** A self-signed certificate and its key, as PEM text and as files. */
export interface TestCertificate extends AsyncDisposable {
  /** The certificate, PEM. */
  readonly cert: string;
  /** Its private key, PEM. */
  readonly key: string;
  /** The file holding `cert`. */
  readonly certFile: string;
  /** The file holding `key`. */
  readonly keyFile: string;
}

/**
 * Makes a self-signed P-256 certificate for the IP address 127.0.0.1, valid
 * for a day, in a temporary directory removed on dispose.
 *
 * It is marked as no CA (`CA:FALSE`): OpenSSL marks a self-signed certificate
 * as a CA by default, and rustls, under Deno's TLS, refuses a CA certificate
 * as a server's own (CaUsedAsEndEntity).
 *
 * @throws {Error} saying to install openssl when it is missing.
 */
export async function makeTestCertificate(): Promise<TestCertificate> {
  const dir = await Deno.makeTempDir({ prefix: "claptrap-tls-" });
  const certFile = `${dir}/cert.pem`;
  const keyFile = `${dir}/key.pem`;
  try {
    await openssl([
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-days",
      "1",
      "-subj",
      "/CN=127.0.0.1",
      "-addext",
      "subjectAltName=IP:127.0.0.1",
      "-addext",
      "basicConstraints=critical,CA:FALSE",
      "-keyout",
      keyFile,
      "-out",
      certFile,
    ]);
    return {
      cert: await Deno.readTextFile(certFile),
      key: await Deno.readTextFile(keyFile),
      certFile,
      keyFile,
      [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
    };
  } catch (error) {
    await Deno.remove(dir, { recursive: true });
    throw error;
  }
}

async function openssl(args: string[]): Promise<void> {
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command("openssl", { args, stdout: "null", stderr: "piped" }).output();
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    throw new Error(
      "openssl is not installed; the TLS tests need it to make a throwaway certificate: " +
        'install it with "apt-get install -y openssl" (.ci/run does)',
      { cause: error },
    );
  }
  if (!output.success) {
    const stderr = new TextDecoder().decode(output.stderr);
    throw new Error(`openssl ${args[0]} failed with exit code ${output.code}:\n${stderr}`);
  }
}
