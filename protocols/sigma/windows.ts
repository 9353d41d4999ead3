/**
 * SigmaHQ's Windows rules as written: their logsources (`product: windows` with a `service`,
 * which names an event log channel, or a `category`, which names Sysmon or Security event ids) and
 * their field names (EventData names such as `TargetUserName`, `Image`, `CommandLine`, and the
 * System names `EventID`, `Channel`, `Provider_Name`, `Computer`) onto the Windows events of
 * protocols/windows (source `windows`). The channels follow the Sigma logsource taxonomy ("Windows
 * ... service"), the categories the Sysmon event ids, and process creation also the Security log's
 * 4688 with pySigma's windows_audit field names (`Image` is `NewProcessName` there). Pure tables
 * and two small functions; see SPEC.md "Windows".
 */
const SYSMON = 'microsoft-windows-sysmon/operational';
const POWERSHELL = 'microsoft-windows-powershell/operational';
const POWERSHELL_CLASSIC = 'windows powershell';

/** `service:` → event log channels (lower case). */
export const WINDOWS_SERVICE_CHANNELS: Readonly<Record<string, readonly string[]>> = {
  security: ['security'],
  system: ['system'],
  application: ['application'],
  sysmon: [SYSMON],
  powershell: [POWERSHELL],
  'powershell-classic': [POWERSHELL_CLASSIC],
  taskscheduler: ['microsoft-windows-taskscheduler/operational'],
  wmi: ['microsoft-windows-wmi-activity/operational'],
  windefend: ['microsoft-windows-windows defender/operational'],
  'dns-server': ['dns server'],
  'dns-client': ['microsoft-windows-dns client events/operational'],
  'bits-client': ['microsoft-windows-bits-client/operational'],
  'codeintegrity-operational': ['microsoft-windows-codeintegrity/operational'],
  'firewall-as': ['microsoft-windows-windows firewall with advanced security/firewall'],
  ntlm: ['microsoft-windows-ntlm/operational'],
  'terminalservices-localsessionmanager': [
    'microsoft-windows-terminalservices-localsessionmanager/operational',
  ],
  'driver-framework': ['microsoft-windows-driverframeworks-usermode/operational'],
  applocker: [
    'microsoft-windows-applocker/exe and dll',
    'microsoft-windows-applocker/msi and script',
    'microsoft-windows-applocker/packaged app-deployment',
    'microsoft-windows-applocker/packaged app-execution',
  ],
  openssh: ['openssh/operational'],
  'lsa-server': ['microsoft-windows-lsa/operational'],
  'smbclient-security': ['microsoft-windows-smbclient/security'],
  'shell-core': ['microsoft-windows-shell-core/operational'],
  'security-mitigations': [
    'microsoft-windows-security-mitigations/kernel mode',
    'microsoft-windows-security-mitigations/user mode',
  ],
  'printservice-admin': ['microsoft-windows-printservice/admin'],
  'printservice-operational': ['microsoft-windows-printservice/operational'],
  'appxdeployment-server': ['microsoft-windows-appxdeploymentserver/operational'],
  capi2: ['microsoft-windows-capi2/operational'],
  'certificateservicesclient-lifecycle-system': [
    'microsoft-windows-certificateservicesclient-lifecycle-system/operational',
  ],
  'msexchange-management': ['msexchange management'],
  'diagnosis-scripted': ['microsoft-windows-diagnosis-scripted/operational'],
  ldap_debug: ['microsoft-windows-ldap-client/debug'],
  vhdmp: ['microsoft-windows-vhdmp/operational'],
  'hyper-v-worker': ['microsoft-windows-hyper-v-worker'],
  'kernel-shimengine': ['microsoft-windows-kernel-shimengine/operational'],
  'iis-configuration': ['microsoft-iis-configuration/operational'],
};

/** `category:` → (channel, event ids). Process creation is Sysmon 1 or Security 4688. */
export const WINDOWS_CATEGORY_EVENTS: Readonly<
  Record<string, ReadonlyArray<readonly [string, readonly number[]]>>
> = {
  process_creation: [
    [SYSMON, [1]],
    ['security', [4688]],
  ],
  file_change: [[SYSMON, [2]]],
  network_connection: [[SYSMON, [3]]],
  sysmon_status: [[SYSMON, [4, 16]]],
  process_termination: [[SYSMON, [5]]],
  driver_load: [[SYSMON, [6]]],
  image_load: [[SYSMON, [7]]],
  create_remote_thread: [[SYSMON, [8]]],
  raw_access_thread: [[SYSMON, [9]]],
  process_access: [[SYSMON, [10]]],
  file_event: [[SYSMON, [11]]],
  registry_add: [[SYSMON, [12]]],
  registry_delete: [[SYSMON, [12]]],
  registry_set: [[SYSMON, [13]]],
  registry_rename: [[SYSMON, [14]]],
  registry_event: [[SYSMON, [12, 13, 14]]],
  create_stream_hash: [[SYSMON, [15]]],
  pipe_created: [[SYSMON, [17, 18]]],
  wmi_event: [[SYSMON, [19, 20, 21]]],
  dns_query: [[SYSMON, [22]]],
  file_delete: [[SYSMON, [23, 26]]],
  clipboard_capture: [[SYSMON, [24]]],
  process_tampering: [[SYSMON, [25]]],
  file_block_executable: [[SYSMON, [27]]],
  file_block_shredding: [[SYSMON, [28]]],
  file_executable_detected: [[SYSMON, [29]]],
  sysmon_error: [[SYSMON, [255]]],
  ps_module: [[POWERSHELL, [4103]]],
  ps_script: [[POWERSHELL, [4104]]],
  ps_classic_start: [[POWERSHELL_CLASSIC, [400]]],
  ps_classic_provider_start: [[POWERSHELL_CLASSIC, [600]]],
  ps_classic_script: [[POWERSHELL_CLASSIC, [800]]],
};

/** System names of the event schema that Sigma rules use, and where protocols/windows keeps them. */
const SYSTEM_FIELDS: Readonly<Record<string, string>> = {
  EventID: 'winlog.event_id',
  Channel: 'winlog.channel',
  Provider_Name: 'winlog.provider_name',
  Computer: 'winlog.computer_name',
  EventRecordID: 'winlog.record_id',
  Level: 'winlog.level',
  Task: 'winlog.task',
  Keywords: 'winlog.keywords',
};

/** Security 4688 names for the Sysmon names process_creation rules use (pySigma windows_audit). */
const DATA_ALIASES: Readonly<Record<string, string>> = {
  Image: 'NewProcessName',
  ParentImage: 'ParentProcessName',
  LogonId: 'SubjectLogonId',
  Details: 'NewValue',
};

/**
 * A rule field name that is not in `fields` itself, read from a Windows event: the System names,
 * then the EventData (or UserData) value of that name, then its Security-log alias.
 */
export function windowsFieldValue(fields: Record<string, unknown>, name: string): unknown {
  const system = Object.hasOwn(SYSTEM_FIELDS, name) ? SYSTEM_FIELDS[name]! : undefined;
  if (system !== undefined && Object.hasOwn(fields, system)) return fields[system];
  const data = Object.hasOwn(fields, 'winlog.event_data') ? fields['winlog.event_data'] : undefined;
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return undefined;
  const d = data as Record<string, unknown>;
  if (Object.hasOwn(d, name)) return d[name];
  const alias = Object.hasOwn(DATA_ALIASES, name) ? DATA_ALIASES[name]! : undefined;
  return alias !== undefined && Object.hasOwn(d, alias) ? d[alias] : undefined;
}

export interface WindowsGuard {
  /**
   * The logsource names a Windows service or category this engine cannot place: it never matches
   * a Windows event (and is inactive when it runs on nothing else).
   */
  inactive: boolean;
  /** Channel and event-id condition the event must meet; undefined when the logsource adds none. */
  test?: () => boolean;
}

/** How the guard reads the event: the `winlog.channel` and `winlog.event_id` fields. */
export interface WindowsGuardReaders {
  source: () => unknown;
  channel: () => unknown;
  eventId: () => unknown;
}

/**
 * The condition a `product: windows` logsource adds: its service's channels and its category's
 * (channel, event ids). Other products get none (undefined).
 */
export function windowsLogsourceGuard(
  logsource: { product?: string; service?: string; category?: string },
  read: WindowsGuardReaders,
): WindowsGuard | undefined {
  if (logsource.product?.toLowerCase() !== 'windows') return undefined;
  const channel = () => {
    const c = read.channel();
    return typeof c === 'string' ? c.toLowerCase() : undefined;
  };
  const tests: Array<() => boolean> = [];
  if (logsource.service !== undefined) {
    const channels = WINDOWS_SERVICE_CHANNELS[logsource.service.toLowerCase()];
    if (!channels) return { inactive: true, test: () => read.source() !== 'windows' };
    const set = new Set(channels);
    tests.push(() => {
      const c = channel();
      return c !== undefined && set.has(c);
    });
  }
  if (logsource.category !== undefined) {
    const pairs = WINDOWS_CATEGORY_EVENTS[logsource.category.toLowerCase()];
    if (!pairs) return { inactive: true, test: () => read.source() !== 'windows' };
    const byChannel = new Map(pairs.map(([c, ids]) => [c, new Set(ids)]));
    tests.push(() => {
      const c = channel();
      const id = read.eventId();
      return c !== undefined && typeof id === 'number' && byChannel.get(c)?.has(id) === true;
    });
  }
  if (tests.length === 0) return { inactive: false };
  // Only our own Windows events (source windows) are narrowed: where a site maps product:windows
  // onto another source (`logsources`), that source's events carry their own fields.
  const [a, b] = tests as [() => boolean, (() => boolean) | undefined];
  if (!b) return { inactive: false, test: () => read.source() !== 'windows' || a() };
  return { inactive: false, test: () => read.source() !== 'windows' || (a() && b()) };
}
