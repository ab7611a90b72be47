// proxy-from-env ships no type declarations.
declare module "proxy-from-env" {
    /** The proxy URL for `url` from HTTP_PROXY, HTTPS_PROXY, ALL_PROXY and NO_PROXY; "" when none applies. */
    export function getProxyForUrl(url: string | URL): string;
}
