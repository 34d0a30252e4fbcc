#include "sysext/publish/sysupdate.hpp"

#include "sysext/util/strings.hpp"

namespace sysext::publish {

namespace {

std::string base_url(const Deployment& d) {
    std::string url = d.base_url.empty() ? k_base_url_placeholder : d.base_url;
    while (url.size() > 1 && url.back() == '/')
        url.pop_back();
    return url;
}

// A YAML double-quoted scalar.
std::string yaml_string(const std::string& s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\')
            out += '\\';
        out += c;
    }
    return out + "\"";
}

// Text as a YAML literal block, each line indented.
std::string yaml_block(const std::string& text, const std::string& indent) {
    std::vector<std::string> lines = split(text, '\n');
    if (!lines.empty() && lines.back().empty())
        lines.pop_back(); // the text's final newline
    std::string out;
    for (const auto& line : lines)
        out += line.empty() ? "\n" : indent + line + "\n";
    return out;
}

std::string installed_path(const Deployment& d) {
    if (d.flatcar_layout) {
        std::string stem = d.image_file.substr(0, d.image_file.size() - 4); // without ".raw"
        return "/etc/flatcar/sysext/" + stem + "-" +
               (d.os_version.empty() ? d.version : d.os_version) + ".raw";
    }
    return "/opt/extensions/" + d.name + "/" + d.image_file;
}

} // namespace

std::string sidecar_file_suffix(const Deployment& d, const std::string& suffix) {
    return !d.flatcar_layout && suffix == ".roothash.p7s" ? ".p7s" : suffix;
}

std::string match_pattern(const std::string& name) {
    return name + "-@v-%a.raw";
}

std::string sysupdate_image_file(const std::string& name, const std::string& version,
                                 const std::string& architecture) {
    return name + "-" + version + "-" + architecture + ".raw";
}

namespace {

// The sidecar's file name part: ".roothash.p7s" -> "roothash-p7s" (for the
// transfer's name) and the match pattern's suffix.
std::string sidecar_label(const std::string& suffix) {
    std::string label = suffix.substr(1);
    for (char& c : label)
        if (c == '.')
            c = '-';
    return label;
}

std::string transfer_text(const Deployment& d, const std::string& suffix) {
    const std::string pattern = d.name + "-@v-%a" + sidecar_file_suffix(d, suffix);
    const std::string what = suffix == ".raw" ? "image" : suffix.substr(1) + " sidecar";
    std::string out;
    out += "# systemd-sysupdate transfer for the " + d.name + " system extension's " + what +
           " (sysext-build).\n";
    out += "# Install into /etc/sysupdate." + d.name + ".d/ with the release's other " + d.name +
           "*.conf; then\n";
    out += "# `systemd-sysupdate -C " + d.name + " update` fetches the newest " + pattern + "\n";
    out += "# listed in SHA256SUMS under Path=, checks its SHA-256 and links it as CurrentSymlink.\n";
    if (suffix == ".roothash.p7s" && sidecar_file_suffix(d, suffix) != suffix)
        out += "# The signature travels as NAME-VERSION-ARCH.p7s: systemd-sysupdate (257, issue\n"
               "# 38605) takes NAME-@v-%a.roothash as matching NAME-VERSION-ARCH.roothash.p7s too.\n";
    if (d.base_url.empty())
        out += std::string("# Replace ") + k_base_url_placeholder +
               " with the URL of the directory holding SHA256SUMS.\n";
    out += "\n[Transfer]\n";
    if (d.sha256sums_key.empty()) {
        out += "# Published without SHA256SUMS.gpg (no --gpg-key): the download is checked\n";
        out += "# against SHA256SUMS only, as authentic as the connection that fetched it.\n";
        out += "# Publish with --gpg-key to sign SHA256SUMS and have Verify=yes here.\n";
        out += "Verify=no\n";
    } else {
        out += "# SHA256SUMS is signed (SHA256SUMS.gpg) by the OpenPGP key\n";
        out += "# " + d.sha256sums_key + "; systemd-sysupdate checks it with gpg against\n";
        out += "# /etc/systemd/import-pubring.gpg (else /usr/lib/systemd/import-pubring.gpg):\n";
        out += "# gpg --export " + d.sha256sums_key + " >/etc/systemd/import-pubring.gpg\n";
        out += "Verify=yes\n";
    }
    out += "\n[Source]\n";
    out += "Type=url-file\n";
    // systemd-sysupdate expands specifiers in Path=: a URL's "%20" must stay "%20".
    std::string path;
    for (char c : base_url(d))
        path += c == '%' ? std::string("%%") : std::string(1, c);
    out += "Path=" + path + "/\n";
    out += "MatchPattern=" + pattern + "\n";
    out += "\n[Target]\n";
    out += "Type=regular-file\n";
    out += "Path=/opt/extensions/" + d.name + "\n";
    out += "MatchPattern=" + pattern + "\n";
    out += "CurrentSymlink=/etc/extensions/" + d.name + suffix + "\n";
    out += "InstancesMax=" + std::to_string(d.instances_max) + "\n";
    return out;
}

} // namespace

std::vector<DeploymentFile> transfer_files(const Deployment& d) {
    std::vector<DeploymentFile> out;
    out.push_back({d.name + ".conf", transfer_text(d, ".raw")});
    for (const auto& suffix : d.sidecar_suffixes)
        out.push_back({d.name + "-" + sidecar_label(suffix) + ".conf", transfer_text(d, suffix)});
    return out;
}

std::string transfer_file(const Deployment& d) { return transfer_text(d, ".raw"); }

std::vector<DeploymentFile> update_units(const Deployment& d) {
    const std::string unit = "sysext-update-" + d.name;
    const std::string link = "/etc/extensions/" + d.name + ".raw";
    const std::string mark = "/run/" + unit + ".before";
    std::string service;
    service += "# Updates the " + d.name + " system extension (sysext-build): systemd-sysupdate's\n";
    service += "# component " + d.name + " (/etc/sysupdate." + d.name + ".d/), then, if a new version\n";
    service += d.on_update == "refresh"
                   ? "# arrived, systemd-sysext refresh merges it at once.\n"
                   : "# arrived, /run/reboot-required asks a reboot manager for a reboot.\n";
    service += "[Unit]\n";
    service += "Description=Update the " + d.name + " system extension\n";
    service += "Documentation=man:systemd-sysupdate(8)\n";
    service += "Wants=network-online.target\n";
    service += "After=network-online.target\n";
    service += "\n[Service]\n";
    service += "Type=oneshot\n";
    // systemd-sysupdate 257 makes the target directory but not the one of
    // CurrentSymlink=, and Debian 13 ships no /etc/extensions; 254 (Debian 12
    // backports) makes neither ("Failed to resolve '/opt/extensions/NAME'").
    service += "ExecStartPre=/bin/mkdir -p /etc/extensions /opt/extensions/" + d.name + "\n";
    service += "ExecStartPre=/bin/sh -c 'readlink -f " + link + " >" + mark + " || true'\n";
    service += "ExecStart=/usr/lib/systemd/systemd-sysupdate -C " + d.name + " update\n";
    const std::string then =
        d.on_update == "refresh" ? "systemd-sysext refresh" : "touch /run/reboot-required";
    service += "ExecStartPost=/bin/sh -c '[ \"$$(readlink -f " + link + ")\" = \"$$(cat " + mark +
               ")\" ] || " + then + "'\n";
    std::string timer;
    timer += "# Runs " + unit + ".service daily (sysext-build).\n";
    timer += "[Unit]\n";
    timer += "Description=Daily update of the " + d.name + " system extension\n";
    timer += "\n[Timer]\n";
    timer += "OnCalendar=daily\n";
    timer += "RandomizedDelaySec=1h\n";
    timer += "Persistent=true\n";
    timer += "\n[Install]\n";
    timer += "WantedBy=timers.target\n";
    return {{unit + ".service", service}, {unit + ".timer", timer}};
}

std::string butane_snippet(const Deployment& d, const std::string& variant,
                           const std::map<std::string, std::string>& sha512_hex) {
    const std::string path = installed_path(d);
    std::string out;
    out += "# Butane snippet (sysext-build): installs the " + d.name + " system extension " +
           d.version + " (" + d.architecture + ")";
    out += d.flatcar_layout ? ".\n" : "\n# and keeps it up to date with systemd-sysupdate.\n";
    out += "# Merge it into your Butane config and transpile it: butane --strict config.bu > "
           "config.ign\n";
    if (d.base_url.empty())
        out += std::string("# Replace ") + k_base_url_placeholder +
               " with the URL the release's files are served from.\n";
    out += "variant: " + variant + "\n";
    out += "version: " + std::string(variant == "flatcar" ? "1.0.0" : "1.5.0") + "\n";
    out += "storage:\n";
    out += "  files:\n";
    // The image, then its sidecars (downloaded with it: systemd checks the
    // signature before it merges anything), under the names the transfers
    // use, linked under systemd-sysext's.
    std::vector<std::string> suffixes = {".raw"};
    suffixes.insert(suffixes.end(), d.sidecar_suffixes.begin(), d.sidecar_suffixes.end());
    const std::string stem = path.substr(0, path.size() - 4), file_stem =
        d.image_file.substr(0, d.image_file.size() - 4);
    for (const auto& suffix : suffixes) {
        const std::string file = sidecar_file_suffix(d, suffix);
        auto hash = sha512_hex.find(file_stem + file);
        out += "    - path: " + yaml_string(stem + file) + "\n";
        out += "      mode: 0644\n";
        out += "      contents:\n";
        out += "        source: " + yaml_string(base_url(d) + "/" + file_stem + file) + "\n";
        if (hash != sha512_hex.end()) {
            out += "        verification:\n";
            out += "          hash: " + yaml_string("sha512-" + hash->second) + "\n";
        }
    }
    if (!d.flatcar_layout) {
        for (const auto& f : transfer_files(d)) {
            out += "    - path: " + yaml_string("/etc/sysupdate." + d.name + ".d/" + f.name) + "\n";
            out += "      mode: 0644\n";
            out += "      contents:\n";
            out += "        inline: |\n";
            out += yaml_block(f.content, "          ");
        }
    }
    out += "  links:\n";
    for (const auto& suffix : suffixes) {
        out += "    - path: " + yaml_string("/etc/extensions/" + d.name + suffix) + "\n";
        out += "      target: " + yaml_string(stem + sidecar_file_suffix(d, suffix)) + "\n";
        out += "      hard: false\n";
    }
    out += "systemd:\n";
    out += "  units:\n";
    // The merge at boot: enabled on Flatcar and Fedora CoreOS by their
    // presets, said here so the snippet does not depend on a preset.
    out += "    - name: systemd-sysext.service\n";
    out += "      enabled: true\n";
    if (!d.flatcar_layout) {
        // This component's own update service and timer; systemd-sysupdate.service
        // (the host's /etc/sysupdate.d) is left alone.
        for (const auto& u : update_units(d)) {
            out += "    - name: " + yaml_string(u.name) + "\n";
            if (u.name.size() > 6 && u.name.substr(u.name.size() - 6) == ".timer")
                out += "      enabled: true\n";
            out += "      contents: |\n";
            out += yaml_block(u.content, "        ");
        }
    }
    return out;
}

} // namespace sysext::publish
