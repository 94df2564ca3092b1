/** The least a worker's environment must hold to load (settings tests add what they test on top). */
export const minimalWorkerEnv = {
  IMAP_HOST: 'imap.example.com',
  IMAP_USER: 'advisories@example.com',
  IMAP_PASSWORD: 'pw',
  SMTP_HOST: 'smtp.example.com',
  REPORT_FROM: 'mail2waf@example.com',
  REPORT_TO: 'soc@example.com',
  AWS_REGION: 'eu-west-1',
  WAF_IPSET_V4_NAME: 'block-v4',
  WAF_IPSET_V6_NAME: 'block-v6',
};
