# SPDX-License-Identifier: Apache-2.0
#
# Pure helpers shared by module.nix and the checks in nix/checks/. Builtins only (no nixpkgs lib),
# so the sshd and policy checks can evaluate them on a machine that has nix-instantiate and
# nothing else. Every string that ends up in sshd_config, authorized_keys, tmpfiles.d or the
# policy is produced here.
let
  inherit (builtins)
    any
    concatStringsSep
    elem
    filter
    genList
    head
    length
    listToAttrs
    map
    match
    split
    stringLength
    substring
    ;

  optionalAttrs = cond: attrs: if cond then attrs else { };
in
rec {
  # The policy path compiled into the package (CMake DIAG_DEFAULT_POLICY). When the wrapper is the
  # login shell it never sees --policy, so this is the only file it can read.
  policyFile = "/etc/diag-wrapper/policy.toml";
  dropInDir = "/etc/diag-wrapper/policy.d";
  # The file the NixOS openssh module writes users.users.<name>.openssh.authorizedKeys to:
  # root-owned, mode 0444, so the account cannot edit its own keys.
  authorizedKeysFile = "/etc/ssh/authorized_keys.d/%u";

  # The shipped policy, parsed at evaluation time. Its [audit] table is replaced by the module.
  defaultPolicy = builtins.fromTOML (builtins.readFile ../policy/default.toml);
  baseDenyPaths = defaultPolicy.deny.paths;

  # An authorized_keys line. `restrict` turns off every forwarding, the PTY and ~/.ssh/rc;
  # command= pins the wrapper even if the sshd Match block were lost; from= is optional.
  authorizedKeyLine =
    { forceCommand, key, from ? [ ] }:
    let
      fromOpt = if from == [ ] then "" else '',from="${concatStringsSep "," from}"'';
    in
    ''restrict${fromOpt},command="${forceCommand}" ${key}'';

  # A bare public key: TYPE BASE64 [COMMENT], no options in front (the module adds them).
  isBarePublicKey =
    key:
    match "(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh[.]com|sk-ecdsa-sha2-nistp256@openssh[.]com) [A-Za-z0-9+/]+=*( [^\n]*)?" key
    != null;

  # Where the block goes in services.openssh.extraConfig: before everything, including the
  # openssh module's own lines (order 0). sshd keeps, for each keyword, the first value it obtains
  # from the Match blocks that apply to a connection, so the first block wins; global lines after
  # `Match all` are global again (sshd accepts even HostKey and Subsystem there).
  matchBlockOrder = -1000;

  # The sshd block. sshd applies every line after a Match to that Match until the next one, so
  # the block ends with `Match all`: a global line another module appends after it stays global.
  # It pins every keyword a later block could otherwise set for the account (a host CA, principals
  # files, LogLevel); PermitUserEnvironment is global-only and AcceptEnv/SetEnv cannot be pinned,
  # so the build-time check asks sshd for those instead.
  matchBlock =
    { user, forceCommand }:
    ''
      Match User ${user}
        AuthorizedKeysFile ${authorizedKeysFile}
        AuthorizedKeysCommand none
        AuthorizedPrincipalsFile none
        AuthorizedPrincipalsCommand none
        TrustedUserCAKeys none
        AuthenticationMethods publickey
        ForceCommand ${forceCommand}
        DisableForwarding yes
        AllowTcpForwarding no
        AllowAgentForwarding no
        AllowStreamLocalForwarding no
        X11Forwarding no
        PermitTunnel no
        PermitTTY no
        PermitUserRC no
        ExposeAuthInfo yes
        LogLevel VERBOSE
      Match all
    '';

  # The directives of an sshd_config text, in order: { key; args; words; }, key lower-cased
  # (sshd keywords are case-insensitive, and may be quoted or followed by `=`), args the rest with
  # runs of blanks as one space, words the arguments. Comments and empty lines are left out.
  sshdDirectives =
    text:
    let
      lines = filter builtins.isString (split "\n" text);
      parsed = map (match "[ \t]*\"?([A-Za-z0-9]+)\"?([ \t]*=[ \t]*|[ \t]+|$)(.*)") lines;
      words = rest: filter (w: builtins.isString w && w != "") (split "[ \t\r]+" rest);
    in
    map (m: {
      key = toLower (builtins.elemAt m 0);
      words = words (builtins.elemAt m 2);
      args = concatStringsSep " " (words (builtins.elemAt m 2));
    }) (filter (m: m != null) parsed);

  toLower = builtins.replaceStrings upperChars lowerChars;
  upperChars = map (c: builtins.substring c 1 "ABCDEFGHIJKLMNOPQRSTUVWXYZ") (genList (i: i) 26);
  lowerChars = map (c: builtins.substring c 1 "abcdefghijklmnopqrstuvwxyz") (genList (i: i) 26);

  # sshd's wildcard patterns for user and group names: `*` any run, `?` one character, the
  # rest literal.
  globMatches =
    pattern: name:
    let
      chars = genList (i: substring i 1 pattern) (stringLength pattern);
      re = concatStringsSep "" (
        map (
          c:
          if c == "*" then
            ".*"
          else if c == "?" then
            "."
          else if match "[A-Za-z0-9_-]" c != null then
            c
          else if elem c [ "]" "^" "\\" "[" ] then
            "\\${c}"
          else
            "[${c}]"
        ) chars
      );
    in
    match re name != null;

  # Why sshd's AllowUsers/AllowGroups/DenyUsers/DenyGroups (lists, or null when unset) refuse
  # `user` (member of `groups`) from every address; [ ] when they do not. A USER@HOST entry of
  # AllowUsers counts as admitting the user (from that host); of DenyUsers, as not refusing it
  # everywhere, unless HOST is `*`. Group entries starting with `!` are negations and never admit.
  sshdShutsOut =
    { user, groups, allowUsers ? null, allowGroups ? null, denyUsers ? null, denyGroups ? null }:
    let
      userPart = e: head (split "@" e);
      # USER@* matches from every host, like a plain USER.
      plain = e: match ".*@.*" e == null || match "[^@]*@[*]" e != null;
      anyGroup = pats: any (g: any (p: match "!.*" p == null && globMatches p g) pats) groups;
      matchingGroups = pats: filter (g: any (p: match "!.*" p == null && globMatches p g) pats) groups;
    in
    (if allowUsers != null && !(any (e: globMatches (userPart e) user) allowUsers) then
      [ "AllowUsers (${concatStringsSep " " allowUsers}) does not list ${user}" ]
    else
      [ ])
    ++ (if allowGroups != null && !(anyGroup allowGroups) then
      [ "AllowGroups (${concatStringsSep " " allowGroups}) lists none of its groups (${concatStringsSep " " groups})" ]
    else
      [ ])
    ++ (if denyUsers != null && any (e: plain e && globMatches (userPart e) user) denyUsers then
      [ "DenyUsers (${concatStringsSep " " denyUsers}) matches ${user}" ]
    else
      [ ])
    ++ (if denyGroups != null && anyGroup denyGroups then
      [ "DenyGroups (${concatStringsSep " " denyGroups}) matches its group ${concatStringsSep " " (matchingGroups denyGroups)}" ]
    else
      [ ]);

  # tmpfiles.d lines for the optional file sink: directory root:GROUP 0750, file root:GROUP 0620
  # (the wrapper runs as the account and appends through the group bit), then the append-only
  # attribute (`h`), so the account can add records but never truncate or rewrite them.
  auditFileRules =
    { file, group, appendOnly ? true }:
    [
      "d ${dirOf file} 0750 root ${group} - -"
      "f ${file} 0620 root ${group} - -"
    ]
    ++ (if appendOnly then [ "h ${file} - - - - +a" ] else [ ]);

  # The hash chain's state file (adr/0011): root-owned in a root-owned directory, read and
  # written by the account's group. `f` creates it empty (the first-use rule: an empty file
  # starts a chain) and never truncates an existing one.
  chainStateRules =
    { chain, group }:
    [
      "d ${dirOf chain} 0750 root ${group} - -"
      "f ${chain} 0660 root ${group} - -"
    ];

  # Fingerprint -> principal, from the keys that carry a fingerprint.
  principalsOf =
    keys:
    listToAttrs (
      map (k: {
        name = k.fingerprint;
        value = k.principal;
      }) (filter (k: (k.fingerprint or null) != null) keys)
    );

  # The policy's [audit] table.
  auditTable =
    { sinks, file, principals ? { }, chain ? null }:
    { inherit sinks; }
    // optionalAttrs (elem "file" sinks) { inherit file; }
    // optionalAttrs (chain != null) { inherit chain; }
    // optionalAttrs (principals != { }) { inherit principals; };

  # A drop-in: only version, [deny] and [command.ID] are allowed there by the loader.
  dropIn =
    { denyPaths ? [ ], commands ? { } }:
    { version = 1; }
    // optionalAttrs (denyPaths != [ ]) { deny.paths = denyPaths; }
    // optionalAttrs (commands != { }) { command = commands; };

  # The policy loader refuses non-ASCII bytes; builtins.toJSON escapes control characters and
  # leaves every other byte as it is, so printable ASCII JSON means an ASCII policy.
  isAsciiValue = v: match "[ -~]*" (builtins.toJSON v) != null;

  # Deny entries and include directories: absolute, no `.`/`..` components, no empty components.
  isCleanAbsolutePath =
    p:
    match "/.*" p != null
    && match "(.*/)?[.][.]?(/.*)?" p == null
    && match ".*//.*" p == null
    && match ".*[\n].*" p == null;

  # Where NixOS installs an environment.etc entry, relative to /etc: etc.nix links
  # "$out/etc/TARGET", so TARGET counts as the kernel reads it (extra slashes, "." and ".."), not
  # as written. "" is /etc itself; null is outside /etc (nothing installed there).
  etcInstallPath =
    target:
    let
      step =
        acc: c:
        if acc == null then
          null
        else if c == "" || c == "." then
          acc
        else if c == ".." then
          (if acc == [ ] then null else genList (builtins.elemAt acc) (length acc - 1))
        else
          acc ++ [ c ];
      parts = builtins.foldl' step [ "etc" ] (filter builtins.isString (split "/" target));
    in
    if parts == null || parts == [ ] || head parts != "etc" then
      null
    else
      concatStringsSep "/" (builtins.tail parts);

  # Command IDs as the loader accepts them.
  isCommandId = id: match "[a-z0-9][a-z0-9_.-]{0,63}" id != null;

  # Drop-in file names: the loader reads *.toml files not starting with a dot.
  isDropInName = n: match "[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}" n != null;

  # Directories the module must never chown to root:GROUP 0750 for the audit file.
  sharedDirs = [ "/" "/etc" "/run" "/tmp" "/var" "/var/lib" "/var/log" "/var/tmp" "/var/empty" "/srv" "/home" "/root" "/nix" ];

  countOf = x: xs: length (filter (y: y == x) xs);
}
