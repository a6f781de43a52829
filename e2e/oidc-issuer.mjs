// A real OpenID Connect issuer for camgate's tests, built on the npm package
// oidc-provider (9.13.3). It proves that camgate accepts access tokens from an
// external issuer it is configured for, and rejects the ones it must.
//
// Usage:
//
//	node e2e/oidc-issuer.mjs [PORT] [--stop-on-stdin-close]
//
// It listens on 127.0.0.1:PORT (default 0, a free port) and, once it serves
// requests, prints its issuer URL ("http://127.0.0.1:12345") as the one line
// of standard output. With --stop-on-stdin-close it exits when its standard
// input closes, so that a test that dies without cleaning up leaves no
// process behind.
//
// Tokens come from the client_credentials grant at {issuer}/token. They are
// RS256 JWT access tokens ("typ": "at+jwt") because resource indicators are
// on with accessTokenFormat 'jwt'. The "resource" form field picks the
// audience:
//
//	resource=urn:camgate  (the default)  aud "camgate"
//	resource=urn:other                   aud "not-camgate" (a wrong audience)
//
// Each client's tokens carry a custom claim "roles" (and the same list in
// Keycloak's nested form, "realm_access": {"roles": […]}):
//
//	client operator / operator-secret  roles ["cam-operators"]
//	client viewer   / viewer-secret    roles ["cam-viewers", "unmapped"]
//	client nobody   / nobody-secret    roles []
//
// Every start makes a new RSA signing key, so two instances never trust each
// other's tokens.

import http from 'node:http';
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import Provider, { errors } from 'oidc-provider';

const args = process.argv.slice(2);
const stopOnStdinClose = args.includes('--stop-on-stdin-close');
const portArg = args.find((a) => !a.startsWith('--')) ?? '0';
const port = Number(portArg);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
	console.error(`oidc-issuer: bad port ${JSON.stringify(portArg)}`);
	process.exit(2);
}

// Listen first: with port 0 the issuer URL is known only once the port is.
const server = http.createServer();
await new Promise((resolve, reject) => {
	server.once('error', reject);
	server.listen(port, '127.0.0.1', resolve);
});
const issuer = `http://127.0.0.1:${server.address().port}`;

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), alg: 'RS256', use: 'sig' };

const resources = {
	'urn:camgate': 'camgate',
	'urn:other': 'not-camgate',
};

const clientRoles = {
	operator: ['cam-operators'],
	viewer: ['cam-viewers', 'unmapped'],
	nobody: [],
};

const clients = Object.keys(clientRoles).map((id) => ({
	client_id: id,
	client_secret: `${id}-secret`,
	grant_types: ['client_credentials'],
	redirect_uris: [],
	response_types: [],
	token_endpoint_auth_method: 'client_secret_post',
}));

const provider = new Provider(issuer, {
	clients,
	jwks: { keys: [signingKey] },
	cookies: { keys: [randomBytes(32).toString('base64url')] },
	features: {
		devInteractions: { enabled: false },
		clientCredentials: { enabled: true },
		resourceIndicators: {
			enabled: true,
			defaultResource: () => 'urn:camgate',
			useGrantedResource: () => true,
			getResourceServerInfo: (_ctx, resource) => {
				const audience = resources[resource];
				if (!audience) {
					throw new errors.InvalidTarget();
				}
				return {
					scope: 'cameras',
					audience,
					accessTokenTTL: 300,
					accessTokenFormat: 'jwt',
					jwt: { sign: { alg: 'RS256' } },
				};
			},
		},
	},
	extraTokenClaims: (_ctx, token) => {
		const roles = clientRoles[token.clientId] ?? [];
		return { roles, realm_access: { roles } };
	},
});

server.on('request', provider.callback());

const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
if (stopOnStdinClose) {
	process.stdin.on('end', stop);
	process.stdin.on('error', stop);
	process.stdin.resume();
}

console.log(issuer);
