/** `-v`: one line per HTTP exchange with a registry; the URL is already redacted by the registry client. */
export function describeExchange(exchange: { method: string; url: string; status: number | undefined; error?: string }): string {
  return `${exchange.method} ${exchange.url} → ${exchange.status ?? exchange.error ?? "no response"}`;
}
