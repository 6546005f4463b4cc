# SPDX-License-Identifier: Apache-2.0
#
# The assertions of the NixOS module (nix/module.nix): every configuration that would loosen the
# account or let a policy in that neither the module nor the build-time check rendered is refused
# with one message. A function of what the module computed; returns the `assertions` list.
{
  lib,
  pkgs,
  config,
  cfg,
  render,
  wrapper,
  # The module's environment.etc entries for /etc/diag-wrapper/*.
  policyEtc,
  # The authorized_keys lines the module writes, and the fingerprints of its keys.
  keyLines,
  fingerprints,
  # The account's Match block as the module adds it to services.openssh.extraConfig.
  diagBlock,
}:
let
  inherit (lib)
    optionalString
    concatStringsSep
    concatMap
    filter
    attrNames
    unique
    elem
    splitString
    hasPrefix
    foldl'
    ;

  unknownDisabled = filter (id: !(render.defaultPolicy.command ? ${id})) cfg.disabledCommands;

  mainCommands = attrNames (cfg.policy.command or { });
  dropInCommands = concatMap (d: attrNames (d.command or { })) (builtins.attrValues cfg.dropIns);
  allCommandIds = mainCommands ++ dropInCommands;
  duplicateIds = unique (filter (id: render.countOf id allCommandIds > 1) allCommandIds);

  finalDeny = cfg.policy.deny.paths or [ ];
  missingBaseDeny = filter (p: !(elem p finalDeny)) render.baseDenyPaths;
  allDenyPaths = finalDeny ++ concatMap (d: d.deny.paths or [ ]) (builtins.attrValues cfg.dropIns);
  badDenyPaths = filter (p: !(render.isCleanAbsolutePath p)) allDenyPaths;

  userCfg = config.users.users.${cfg.user};

  # Another source or text, or another mode or owner (a symlink again, a file the account may
  # write): each is a policy the module did not render or install.
  replacedEtc = filter (
    n:
    let
      e = config.environment.etc.${n};
      want = policyEtc.${n};
    in
    (e.text or null) != null
    || e.source != want.source
    || (e.mode or "symlink") != want.mode
    || (e.user or "+0") != want.user
    || (e.group or "+0") != want.group
  ) (attrNames policyEtc);
  # Where an environment.etc entry lands under /etc: etc.nix installs it at its target (the name
  # unless set), and not at all with enable = false; null when nothing lands under /etc.
  etcInstalled =
    n:
    let
      e = config.environment.etc.${n};
    in
    if e.enable or true then render.etcInstallPath (e.target or n) else null;
  # Any other entry installed in /etc/diag-wrapper, whatever its name: a drop-in there would be
  # loaded by the wrapper but never seen by the assertions or the build-time check, and another
  # entry at one of the module's paths competes with its file (etc.nix keeps the first source
  # and lets a duplicate of the same source reset mode and owner). A glob source links each
  # match into its target directory, so at /etc itself it can create /etc/diag-wrapper.
  inPolicyDir =
    n:
    let
      p = etcInstalled n;
    in
    p != null
    && (
      p == "diag-wrapper"
      || hasPrefix "diag-wrapper/" p
      || (p == "" && builtins.match ".*[*].*" (toString config.environment.etc.${n}.source) != null)
    );
  foreignEtc = filter (n: !(policyEtc ? ${n}) && inPolicyDir n) (attrNames config.environment.etc);
  describeEtc =
    n:
    let
      target = config.environment.etc.${n}.target or n;
    in
    "\"${n}\"" + optionalString (target != n) " (target \"${target}\")";
  # The module's own entries moved away (target) or switched off (enable): without policy.toml
  # every request is refused, without a drop-in its deny entries are gone without a word.
  movedEtc = filter (n: etcInstalled n != n) (attrNames policyEtc);
  # The include directories the host loads are the ones the build-time check reads (it passes
  # --include with the build's copy of policy.d, and the loader then ignores settings.include).
  policyInclude = cfg.policy.settings.include or [ ];

  foreignKeys = filter (l: !(elem l keyLines)) userCfg.openssh.authorizedKeys.keys;
  keyFiles = userCfg.openssh.authorizedKeys.keyFiles or [ ];
  # The key file sshd reads for the account, exactly as the openssh module generates it from
  # users.users.<account>.openssh.authorizedKeys (sshd.nix authKeysFiles): a root-owned 0444 copy
  # of this text. Anything else (mkForce of text or source, another mode or owner) replaces the keys.
  keysEtcName = "ssh/authorized_keys.d/${cfg.user}";
  # Every entry installed at that path, under any name (by its target, as etc.nix installs it).
  keysEtcAt = filter (n: etcInstalled n == keysEtcName) (attrNames config.environment.etc);
  keysEtcOthers = filter (n: n != keysEtcName) keysEtcAt;
  keysEtc = if keysEtcAt == [ keysEtcName ] then config.environment.etc.${keysEtcName} else null;
  # (sshd.nix's text is `KEYS\nKEYFILES\n`, and keyFiles are refused.)
  keysEtcExpected = pkgs.writeText "${cfg.user}-authorized_keys" (
    concatStringsSep "\n" userCfg.openssh.authorizedKeys.keys + "\n\n"
  );
  keysEtcReplaced =
    if userCfg.openssh.authorizedKeys.keys == [ ] || keyFiles != [ ] then
      # No keys: nixpkgs writes no file, so any is foreign. keyFiles: refused by the assertion above.
      keyFiles == [ ] && keysEtcAt != [ ]
    else
      keysEtc == null
      || (keysEtc.text or null) != null
      || keysEtc.source != keysEtcExpected
      || (keysEtc.mode or "0444") != "0444"
      || (keysEtc.user or "+0") != "+0"
      || (keysEtc.group or "+0") != "+0";

  sshdSettings = config.services.openssh.settings;
  sshdExtra = config.services.openssh.extraConfig;
  # sshd_config directives of extraConfig, in order: { key (lower case); args; }.
  extraDirectives = render.sshdDirectives sshdExtra;
  # What comes before the diag block: settings (rendered first) and extraConfig up to the block.
  # Include and Match there would be read before it; Include anywhere names files the build
  # never sees (ADR 0010).
  settingsKeys = attrNames (lib.filterAttrs (_: v: v != null) sshdSettings);
  earlySettings = filter (k: elem (render.toLower k) [ "include" "match" ]) settingsKeys;
  beforeBlock = render.sshdDirectives (builtins.head (splitString diagBlock sshdExtra));
  earlyMatch = map (d: "Match ${d.args}") (filter (d: d.key == "match") beforeBlock);
  blockMissing = builtins.length (splitString diagBlock sshdExtra) < 2;
  includes = map (d: "Include ${d.args}") (filter (d: d.key == "include") extraDirectives);

  # sshd's AllowUsers/AllowGroups/DenyUsers/DenyGroups: settings, plus the lines of extraConfig
  # in the global context (before any Match, or after `Match all`); those inside a conditional
  # Match block apply to some connections only.
  globalFilters = (foldl' (
    st: d:
    if d.key == "match" then
      st // { global = render.toLower d.args == "all"; }
    else if st.global && elem d.key [ "allowusers" "allowgroups" "denyusers" "denygroups" ] then
      st // { ${d.key} = (st.${d.key} or [ ]) ++ d.words; }
    else
      st
  ) { global = true; } extraDirectives);
  filterOf =
    name:
    let
      fromSettings = sshdSettings.${name} or null;
      fromExtra = globalFilters.${render.toLower name} or null;
    in
    if fromSettings == null && fromExtra == null then null else (if fromSettings == null then [ ] else fromSettings) ++ (if fromExtra == null then [ ] else fromExtra);
  diagGroups = [ cfg.user ] ++ userCfg.extraGroups;
  shutOut = render.sshdShutsOut {
    user = cfg.user;
    groups = diagGroups;
    allowUsers = filterOf "AllowUsers";
    allowGroups = filterOf "AllowGroups";
    denyUsers = filterOf "DenyUsers";
    denyGroups = filterOf "DenyGroups";
  };
in
[
  {
    assertion = config.services.openssh.enable;
    message = "services.diag-wrapper needs services.openssh.enable = true: the ${cfg.user} account is reached only through sshd.";
  }
  {
    assertion = foreignKeys == [ ] && keyFiles == [ ];
    message = "services.diag-wrapper: users.users.${cfg.user}.openssh.authorizedKeys has keys the module did not write (${
      concatStringsSep "; " (foreignKeys ++ map toString keyFiles)
    }): such a key logs in without restrict and without the forced command. Add keys only through services.diag-wrapper.authorizedKeys.";
  }
  {
    assertion = earlySettings == [ ];
    message = "services.diag-wrapper: services.openssh.settings sets ${concatStringsSep " and " earlySettings}: the openssh module writes settings before extraConfig, so it would come before the ${cfg.user} Match block, and sshd keeps the first value a matching block sets (an included file can hold Match blocks that loosen the account). Write Match blocks in services.openssh.extraConfig, and no Include.";
  }
  {
    assertion = includes == [ ];
    message = "services.diag-wrapper: services.openssh.extraConfig has ${concatStringsSep "; " includes}: the included files are not part of the build, so neither the build-time sshd check nor these assertions see what is dropped there later (before the ${cfg.user} block it is read first; after it, AcceptEnv adds up across blocks). Write the lines into extraConfig instead.";
  }
  {
    assertion = earlyMatch == [ ];
    message = "services.diag-wrapper: services.openssh.extraConfig has ${concatStringsSep "; " earlyMatch} before the ${cfg.user} Match block (an order below ${toString render.matchBlockOrder}); sshd keeps the first value a matching block sets, so it would decide for ${cfg.user}. Use a higher order (mkBefore, the default or mkAfter all come after the block).";
  }
  {
    assertion = !blockMissing;
    message = "services.diag-wrapper: the ${cfg.user} Match block is missing from services.openssh.extraConfig (replaced with mkForce?); without it sshd neither forces the wrapper nor restricts the account.";
  }
  {
    assertion = shutOut == [ ];
    message = "services.diag-wrapper: services.openssh.settings or extraConfig (global lines) shuts the ${cfg.user} account out: ${concatStringsSep "; " shutOut}. Add ${cfg.user} (or a group it is in) to AllowUsers/AllowGroups, or take it out of DenyUsers/DenyGroups.";
  }
  {
    assertion = replacedEtc == [ ];
    message = "services.diag-wrapper: environment.etc.\"${concatStringsSep "\", \"" replacedEtc}\" is replaced (mkForce of source or text). The module renders these files from services.diag-wrapper.policy, extraDenyPaths and dropIns, where deny entries can only be added; set those instead.";
  }
  {
    assertion = cfg.user != "root";
    message = "services.diag-wrapper.user must not be root: the wrapper is the account's login shell and every key of it would be a root key.";
  }
  {
    assertion = !(elem "wheel" userCfg.extraGroups);
    message = "services.diag-wrapper: ${cfg.user} must not be in wheel (sudo/polkit); grant read access through groups such as systemd-journal.";
  }
  {
    assertion = toString userCfg.shell == wrapper;
    message = "services.diag-wrapper: users.users.${cfg.user}.shell must be ${wrapper} (sshd runs ForceCommand through the login shell; nologin or a real shell breaks the confinement).";
  }
  {
    assertion = builtins.all (k: render.isBarePublicKey k.key) cfg.authorizedKeys;
    message = "services.diag-wrapper.authorizedKeys: every key must be a bare public key (TYPE BASE64 [COMMENT]) without options; the module adds restrict and command= itself. Offending: ${
      concatStringsSep ", " (map (k: k.principal) (filter (k: !(render.isBarePublicKey k.key)) cfg.authorizedKeys))
    }";
  }
  {
    assertion = unique fingerprints == fingerprints;
    message = "services.diag-wrapper.authorizedKeys: a fingerprint appears twice; each key maps to exactly one principal.";
  }
  {
    assertion = unique cfg.audit.sinks == cfg.audit.sinks;
    message = "services.diag-wrapper.audit.sinks lists a sink twice.";
  }
  {
    assertion = (cfg.policy.audit.sinks or [ ]) == cfg.audit.sinks;
    message = "services.diag-wrapper.policy.audit is set directly; use services.diag-wrapper.audit.sinks and .file instead.";
  }
  {
    assertion =
      !(elem "file" cfg.audit.sinks)
      || (render.isCleanAbsolutePath cfg.audit.file && !(elem (dirOf cfg.audit.file) render.sharedDirs));
    message = "services.diag-wrapper.audit.file (${cfg.audit.file}) must be an absolute path in a directory of its own, such as /var/log/diag-wrapper/audit.jsonl: the module makes that directory root:${cfg.user} 0750.";
  }
  {
    assertion =
      render.isCleanAbsolutePath cfg.audit.chain
      && !(elem (dirOf cfg.audit.chain) render.sharedDirs)
      && dirOf cfg.audit.chain != dirOf cfg.audit.file;
    message = "services.diag-wrapper.audit.chain (${cfg.audit.chain}) must be an absolute path in a directory of its own, such as /var/lib/diag-wrapper/chain: the module makes that directory root:${cfg.user} 0750.";
  }
  {
    assertion = unknownDisabled == [ ];
    message = "services.diag-wrapper.disabledCommands names commands the shipped policy does not have: ${concatStringsSep ", " unknownDisabled}";
  }
  {
    assertion = missingBaseDeny == [ ];
    message = "services.diag-wrapper.policy.deny.paths drops entries of the shipped policy (${concatStringsSep ", " missingBaseDeny}); a host can add deny entries, never remove one.";
  }
  {
    assertion = badDenyPaths == [ ];
    message = "services.diag-wrapper: deny paths must be absolute, without . or .. components: ${concatStringsSep ", " badDenyPaths}";
  }
  {
    assertion = builtins.all render.isCommandId allCommandIds;
    message = "services.diag-wrapper: command IDs must match [a-z0-9][a-z0-9_.-]* (at most 64 bytes): ${
      concatStringsSep ", " (filter (id: !(render.isCommandId id)) allCommandIds)
    }";
  }
  {
    assertion = duplicateIds == [ ];
    message = "services.diag-wrapper: command IDs defined twice (main policy, extraCommands, dropIns): ${concatStringsSep ", " duplicateIds}; a drop-in cannot replace a rule.";
  }
  {
    assertion = builtins.all render.isDropInName (attrNames cfg.dropIns);
    message = "services.diag-wrapper.dropIns: names must match [A-Za-z0-9_][A-Za-z0-9_.-]* (the file is NAME.toml).";
  }
  {
    assertion = builtins.all (
      d:
      builtins.all (k: elem k [ "version" "deny" "command" ]) (attrNames d)
    ) (builtins.attrValues cfg.dropIns);
    message = "services.diag-wrapper.dropIns: a drop-in may contain only version, deny and command; settings and audit belong in the main policy.";
  }
  {
    assertion = policyInclude == [ render.dropInDir ] || (policyInclude == [ ] && cfg.dropIns == { });
    message = "services.diag-wrapper.policy.settings.include must be [ \"${render.dropInDir}\" ] (it is ${builtins.toJSON policyInclude}): the module installs drop-ins there and the build-time policy check reads exactly that directory; another directory would be loaded on the host unchecked, and without it the drop-ins would be ignored.";
  }
  {
    assertion = foreignEtc == [ ];
    message = "services.diag-wrapper: environment.etc.${concatStringsSep ", " (map describeEtc foreignEtc)} is not written by the module; the wrapper would load it, but neither the assertions nor the build-time policy check would see it. Use services.diag-wrapper.dropIns.NAME (or extraCommands, extraDenyPaths) instead.";
  }
  {
    assertion = movedEtc == [ ];
    message = "services.diag-wrapper: environment.etc.\"${concatStringsSep "\", \"" movedEtc}\" is not installed at its path (its target changed, or enable = false): without policy.toml the wrapper refuses every request, without a drop-in its deny entries are silently gone, and the path is left to another file. Set services.diag-wrapper options instead.";
  }
  {
    assertion = !keysEtcReplaced;
    message = "services.diag-wrapper: environment.etc.\"${keysEtcName}\" is not the file the openssh module generates from the keys (text, source, mode, owner, target or enable replaced${optionalString (keysEtcOthers != [ ]) ", or replaced by environment.etc.\"${concatStringsSep "\", \"" keysEtcOthers}\" installed at its path"}); sshd reads only that file for ${cfg.user}, so its keys would log in without restrict and the forced command. Add keys only through services.diag-wrapper.authorizedKeys.";
  }
  {
    assertion = (cfg.policy.version or null) == 1;
    message = "services.diag-wrapper.policy.version must be 1 (the schema this wrapper reads).";
  }
  {
    assertion = render.isAsciiValue cfg.policy && render.isAsciiValue cfg.dropIns;
    message = "services.diag-wrapper: the policy must be ASCII only (the loader refuses other bytes); check descriptions and patterns.";
  }
]
