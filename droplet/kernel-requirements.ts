/** The kernel environment's requirements.txt: the pythonPackages entries, then the requirements file. */
export function kernelRequirements(pythonPackages: string[], requirementsFileText?: string): string {
    const lines = [...pythonPackages];
    if (requirementsFileText !== undefined && requirementsFileText.trim() !== "") {
        lines.push(requirementsFileText.trimEnd());
    }
    return lines.length === 0 ? "" : lines.join("\n") + "\n";
}
