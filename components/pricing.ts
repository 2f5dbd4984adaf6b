// What a stack costs, for the outputs and the reminder `pulumi up` prints. The droplet's
// prices come from DigitalOcean's API (the droplet's size); a volume's from DigitalOcean's
// published rate, since the API does not state it.

/** Block storage: USD per GiB per month (DigitalOcean's list price, as of 2026). */
export const volumeUsdPerGbMonth = 0.1;
/** DigitalOcean bills by the hour up to 672 hours (28 days) a month: its hourly rate is monthly / 672. */
export const billedHoursPerMonth = 672;

export interface Price {
    hourlyUsd: number;
    monthlyUsd: number;
}

export function volumePrice(sizeGb: number): Price {
    const monthlyUsd = sizeGb * volumeUsdPerGbMonth;
    return { monthlyUsd, hourlyUsd: monthlyUsd / billedHoursPerMonth };
}

/** Sum of prices, rounded to what a bill shows (hourly to 5 decimals, monthly to cents). */
export function totalPrice(...prices: Price[]): Price {
    const sum = (pick: (p: Price) => number) => prices.reduce((total, p) => total + pick(p), 0);
    return { hourlyUsd: round(sum((p) => p.hourlyUsd), 5), monthlyUsd: round(sum((p) => p.monthlyUsd), 2) };
}

function round(value: number, decimals: number): number {
    const factor = 10 ** decimals;
    return Math.round(value * factor) / factor;
}

export function formatUsd(value: number): string {
    return value >= 0.01 || value === 0 ? `$${value.toFixed(2)}` : `$${value.toFixed(5)}`;
}

/** One line that says what the stack costs while it is in this state, for the log and the outputs. */
export function costSummary(state: { paused: boolean; dataVolumeGb: number; price: Price }): string {
    const rate = `${formatUsd(state.price.hourlyUsd)}/hour, up to ${formatUsd(state.price.monthlyUsd)}/month`;
    if (!state.paused) {
        return `running: ${rate} (droplet${state.dataVolumeGb > 0 ? ` and ${state.dataVolumeGb} GB volume` : ""}) until ` +
            "`pulumi config set paused true` and `pulumi up`, or `pulumi destroy`";
    }
    return state.dataVolumeGb > 0
        ? `paused: no droplet; the ${state.dataVolumeGb} GB data volume costs ${rate}. ` +
            "`pulumi config set paused false` and `pulumi up` bring the server back with the same notebooks and password"
        : "paused: no droplet and no volume, nothing to pay. `pulumi config set paused false` and `pulumi up` bring the server back";
}
