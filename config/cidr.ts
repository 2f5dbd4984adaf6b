// Who may reach the server: a list of IPv4/IPv6 CIDR blocks. A block written with host bits set
// (203.0.113.7/24) is refused, showing the block it would mean and the address alone.
import { ConfigError } from "./problems";
import { jsonList, Parse } from "./values";

/** Every IPv4 and IPv6 address. */
export const anywhere: readonly string[] = ["0.0.0.0/0", "::/0"];

export const parseCidrs: Parse<string[]> = (raw, { key }) => {
    const list = jsonList(key, raw, "203.0.113.7/32");
    if (list.length === 0) {
        throw new ConfigError(key, raw, "must hold at least one CIDR block, or be unset for anywhere");
    }
    return list.map((item) => {
        if (typeof item !== "string" || !isCidr(item)) {
            throw new ConfigError(
                key,
                JSON.stringify(item),
                "each entry must be an IPv4 or IPv6 CIDR block such as 203.0.113.7/32 or 2001:db8::/48",
            );
        }
        const { network, hostBitsSet } = cidrNetwork(item);
        if (hostBitsSet) {
            // 203.0.113.7/24 is most often one's own address with the wrong suffix, not a wish to
            // let in 255 neighbours: say what it would mean, and what was probably meant.
            const [address] = item.split("/");
            throw new ConfigError(
                key,
                JSON.stringify(item),
                `has host bits set: as a block it means ${network}, every address from there; ` +
                    `for your own address alone write ${address}/${address.includes(":") ? 128 : 32}`,
            );
        }
        return item;
    });
};

/** The block a CIDR names (its host bits cleared; IPv6 in RFC 5952 text), and whether it had any set. */
export function cidrNetwork(cidr: string): { network: string; hostBitsSet: boolean } {
    const [address, prefix] = cidr.split("/");
    const bits = Number(prefix);
    const v6 = address.includes(":");
    const width = v6 ? 128 : 32;
    const value = v6 ? ipv6Value(address) : address.split(".").reduce((n, octet) => (n << 8n) + BigInt(octet), 0n);
    const mask = bits === 0 ? 0n : ((1n << BigInt(bits)) - 1n) << BigInt(width - bits);
    const network = value & mask;
    const text = v6 ? ipv6Text(network) : [24n, 16n, 8n, 0n].map((shift) => String((network >> shift) & 255n)).join(".");
    return { network: `${text}/${bits}`, hostBitsSet: network !== value };
}

function ipv6Value(address: string): bigint {
    const [head, tail] = address.includes("::") ? address.split("::") : [address, undefined];
    const headGroups = head === "" ? [] : head.split(":");
    const tailGroups = tail === undefined || tail === "" ? [] : tail.split(":");
    const groups =
        tail === undefined
            ? headGroups
            : [...headGroups, ...Array<string>(8 - headGroups.length - tailGroups.length).fill("0"), ...tailGroups];
    return groups.reduce((n, group) => (n << 16n) + BigInt(parseInt(group, 16)), 0n);
}

/** RFC 5952 text: lower case, the longest run of two or more zero groups as "::". */
function ipv6Text(value: bigint): string {
    const groups = Array.from({ length: 8 }, (_, i) => Number((value >> BigInt(112 - 16 * i)) & 0xffffn));
    let best = { start: -1, length: 0 };
    for (let i = 0; i < 8; i++) {
        let j = i;
        while (j < 8 && groups[j] === 0) {
            j++;
        }
        if (j - i > best.length && j - i >= 2) {
            best = { start: i, length: j - i };
        }
    }
    const text = groups.map((g) => g.toString(16));
    if (best.start < 0) {
        return text.join(":");
    }
    return `${text.slice(0, best.start).join(":")}::${text.slice(best.start + best.length).join(":")}`;
}

export function isCidr(value: string): boolean {
    const [address, prefix, ...rest] = value.split("/");
    if (rest.length > 0 || prefix === undefined || !/^\d{1,3}$/.test(prefix)) {
        return false;
    }
    const bits = Number(prefix);
    if (/^\d{1,3}(\.\d{1,3}){3}$/.test(address)) {
        return bits <= 32 && address.split(".").every((octet) => Number(octet) <= 255 && String(Number(octet)) === octet);
    }
    return bits <= 128 && isIpv6(address);
}

function isIpv6(address: string): boolean {
    if (!/^[0-9a-fA-F:]+$/.test(address) || address.includes(":::") || address.split("::").length > 2) {
        return false;
    }
    const groups = address.split(":").filter((group) => group !== "");
    if (groups.some((group) => group.length > 4)) {
        return false;
    }
    return address.includes("::") ? groups.length < 8 : groups.length === 8;
}
