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

std::string match_pattern(const std::string& name) {
    return name + "-@v-%a.raw";
}

std::string sysupdate_image_file(const std::string& name, const std::string& version,
                                 const std::string& architecture) {
    return name + "-" + version + "-" + architecture + ".raw";
}

std::string transfer_file(const Deployment& d) {
    std::string out;
    out += "# systemd-sysupdate transfer for the " + d.name + " system extension (sysext-build).\n";
    out += "# Install as /etc/sysupdate." + d.name + ".d/" + d.name + ".transfer; then\n";
    out += "# `systemd-sysupdate -C " + d.name + " update` fetches the newest " +
           match_pattern(d.name) + "\n";
    out +=
        "# listed in SHA256SUMS under Path=, checks its SHA-256 and links it as CurrentSymlink.\n";
    if (d.base_url.empty())
        out += std::string("# Replace ") + k_base_url_placeholder +
               " with the URL of the directory holding SHA256SUMS.\n";
    out += "\n[Transfer]\n";
    out += "# Releases publish SHA256SUMS without SHA256SUMS.gpg: the download is checked\n";
    out += "# against SHA256SUMS, fetched over HTTPS. Publish SHA256SUMS.gpg and set Verify=yes\n";
    out += "# to authenticate the list itself.\n";
    out += "Verify=no\n";
    out += "\n[Source]\n";
    out += "Type=url-file\n";
    // systemd-sysupdate expands specifiers in Path=: a URL's "%20" must stay "%20".
    std::string path;
    for (char c : base_url(d))
        path += c == '%' ? std::string("%%") : std::string(1, c);
    out += "Path=" + path + "/\n";
    out += "MatchPattern=" + match_pattern(d.name) + "\n";
    out += "\n[Target]\n";
    out += "Type=regular-file\n";
    out += "Path=/opt/extensions/" + d.name + "\n";
    out += "MatchPattern=" + match_pattern(d.name) + "\n";
    out += "CurrentSymlink=/etc/extensions/" + d.name + ".raw\n";
    out += "InstancesMax=" + std::to_string(d.instances_max) + "\n";
    return out;
}

std::string butane_snippet(const Deployment& d, const std::string& variant,
                           const std::string& sha512_hex) {
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
    out += "    - path: " + yaml_string(path) + "\n";
    out += "      mode: 0644\n";
    out += "      contents:\n";
    out += "        source: " + yaml_string(base_url(d) + "/" + d.image_file) + "\n";
    out += "        verification:\n";
    out += "          hash: " + yaml_string("sha512-" + sha512_hex) + "\n";
    if (!d.flatcar_layout) {
        out += "    - path: " +
               yaml_string("/etc/sysupdate." + d.name + ".d/" + d.name + ".transfer") + "\n";
        out += "      mode: 0644\n";
        out += "      contents:\n";
        out += "        inline: |\n";
        out += yaml_block(transfer_file(d), "          ");
    }
    out += "  links:\n";
    out += "    - path: " + yaml_string("/etc/extensions/" + d.name + ".raw") + "\n";
    out += "      target: " + yaml_string(path) + "\n";
    out += "      hard: false\n";
    if (!d.flatcar_layout) {
        // systemd-sysupdate.service updates the host's own transfers; a drop-in
        // runs this extension's component first, and the timer runs it daily.
        out += "systemd:\n";
        out += "  units:\n";
        // The merge at boot: enabled on Flatcar and Fedora CoreOS by their
        // presets, said here so the snippet does not depend on a preset.
        out += "    - name: systemd-sysext.service\n";
        out += "      enabled: true\n";
        out += "    - name: systemd-sysupdate.timer\n";
        out += "      enabled: true\n";
        out += "    - name: systemd-sysupdate.service\n";
        out += "      dropins:\n";
        out += "        - name: " + yaml_string(d.name + ".conf") + "\n";
        out += "          contents: |\n";
        out += "            [Service]\n";
        out += "            ExecStartPre=/usr/lib/systemd/systemd-sysupdate -C " + d.name +
               " update\n";
    }
    return out;
}

} // namespace sysext::publish
