// What a stack costs, for the outputs and the reminder `pulumi up` prints. The droplet's
// prices come from DigitalOcean's API (the droplet's size); a volume's from DigitalOcean's
// published rate, since the API does not state it.

/** Block storage: USD per GiB per month (DigitalOcean's list price, as of 2026). */
export const volumeUsdPerGbMonth = 0.1;
/** DigitalOcean bills by the hour up to 672 hours (28 days) a month: its hourly rate is monthly / 672. */
export const billedHoursPerMonth = 672;

/**
 * A reserved IPv4 address: free while assigned to a droplet, charged while not (DigitalOcean's
 * list price, as of 2026: $5 a month).
 */
export const unassignedReservedIpUsdPerMonth = 5;

export interface Price {
    hourlyUsd: number;
    monthlyUsd: number;
}

export function volumePrice(sizeGb: number): Price {
    const monthlyUsd = sizeGb * volumeUsdPerGbMonth;
    return { monthlyUsd, hourlyUsd: monthlyUsd / billedHoursPerMonth };
}

/** What a reserved IP costs: nothing while a droplet has it, the unassigned rate while paused. */
export function reservedIpPrice(assigned: boolean): Price {
    const monthlyUsd = assigned ? 0 : unassignedReservedIpUsdPerMonth;
    return { monthlyUsd, hourlyUsd: monthlyUsd / billedHoursPerMonth };
}

/** Sum of prices, rounded to what a bill shows (hourly to 5 decimals, monthly to cents). */
export function totalPrice(...prices: Price[]): Price {
    const sum = (pick: (p: Price) => number) => prices.reduce((total, p) => total + pick(p), 0);
    return {
        hourlyUsd: round(
            sum((p) => p.hourlyUsd),
            5,
        ),
        monthlyUsd: round(
            sum((p) => p.monthlyUsd),
            2,
        ),
    };
}

function round(value: number, decimals: number): number {
    const factor = 10 ** decimals;
    return Math.round(value * factor) / factor;
}

/** "$0.01801": an hourly rate is a fraction of a cent. */
export function formatHourlyUsd(usd: number): string {
    return `$${usd.toFixed(5)}`;
}

/** "$0.01801/hour, up to $12.10/month": monthly amounts in whole cents. */
export function formatRate(price: Price): string {
    return `${formatHourlyUsd(price.hourlyUsd)}/hour, up to $${price.monthlyUsd.toFixed(2)}/month`;
}

/** One line that says what the stack costs while it is in this state, for the log and the outputs. */
export function costSummary(state: { paused: boolean; dataVolumeGb: number; reservedIp: boolean; price: Price }): string {
    const rate = formatRate(state.price);
    const volume = `${state.dataVolumeGb} GB volume`;
    if (!state.paused) {
        return (
            `running: ${rate} (droplet${state.dataVolumeGb > 0 ? ` and ${volume}` : ""}) until ` +
            "`pulumi config set paused true` and `pulumi up`, or `pulumi destroy`"
        );
    }
    const kept = [...(state.dataVolumeGb > 0 ? [`the ${volume}`] : []), ...(state.reservedIp ? ["the unassigned reserved IP"] : [])];
    return (
        `paused: no droplet; ${kept.length > 0 ? `${kept.join(" and ")} cost${kept.length === 1 ? "s" : ""} ${rate}` : "nothing to pay"}. ` +
        "`pulumi config set paused false` and `pulumi up` bring the server back with the same notebooks and password"
    );
}
