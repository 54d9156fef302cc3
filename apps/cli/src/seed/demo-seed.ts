import { randomBytes } from 'node:crypto';
import { GatewayClient } from '../gateway-client';

export interface DemoSeedOptions {
  users: number;
  documents: number;
  onProgress(done: number, total: number, detail: string): void;
}

export interface DemoSeedReport {
  /** Tells this run's accounts, tenants and documents apart from earlier runs'. */
  run: string;
  /** Every seeded account signs in with it. */
  password: string;
  users: { email: string; username: string; tenantSlug: string }[];
  tenants: { id: string; slug: string }[];
  documents: { id: string; language: string; title: string }[];
  comments: number;
}

interface Member {
  email: string;
  username: string;
  userId: string;
  /** Acting in the member's tenant. */
  token: string;
}

/**
 * Documents in the languages search treats differently: English and Russian have their own text
 * search configurations (stems, stop words), Tatar is indexed with the `simple` one. Every text
 * names Multipult, so one search finds them all.
 */
const SAMPLE_DOCUMENTS = [
  { language: 'en', title: 'Getting started with the platform', body: 'Teams publish articles on Multipult, translate them and search everything in one place.' },
  { language: 'ru', title: 'Знакомство с платформой', body: 'Команды публикуют статьи в Multipult, переводят их и ищут документы в одном месте.' },
  { language: 'tt', title: 'Платформа белән танышу', body: 'Командалар Multipult аша мәкаләләр бастыра, аларны тәрҗемә итә һәм документлар эзли.' },
  { language: 'en', title: 'Release notes for the spring update', body: 'Multipult gets faster search, live comments and mentions that notify the people you name.' },
  { language: 'ru', title: 'Заметки к весеннему обновлению', body: 'В Multipult быстрый поиск, живые комментарии и упоминания, о которых узнают упомянутые люди.' },
  { language: 'tt', title: 'Язгы яңарту турында', body: 'Multipult: тиз эзләү, җанлы фикерләр һәм искә алулар турында хәбәрләр.' },
] as const;

const NAMES = ['Alice Archer', 'Boris Belov', 'Chulpan Gali', 'Dmitri Orlov', 'Elena Petrova', 'Farid Nurullin', 'Grace Hopper', 'Ilnur Sabirov'];

const REGISTER = `mutation Register($input: RegisterInput!) { register(input: $input) { accessToken user { id username } } }`;
const CREATE_TENANT = `mutation CreateTenant($input: CreateTenantInput!) { createTenant(input: $input) { tenant { id slug } } }`;
const ADD_MEMBER = `mutation AddTenantMember($input: AddTenantMemberInput!) { addTenantMember(input: $input) { membership { createdAt } } }`;
const SWITCH_TENANT = `mutation SwitchTenant($input: SwitchTenantInput!) { switchTenant(input: $input) { accessToken } }`;
const CREATE_DOCUMENT = `mutation CreateDocument($input: CreateDocumentInput!) { createDocument(input: $input) { document { id } } }`;
const PUBLISH_DOCUMENT = `mutation PublishDocument($input: DocumentIdInput!) { publishDocument(input: $input) { document { id } } }`;
const ADD_COMMENT = `mutation AddComment($input: AddCommentInput!) { addComment(input: $input) { comment { id } } }`;

/** How many users open a second tenant's worth: with fewer, everyone shares one tenant. */
const USERS_FOR_TWO_TENANTS = 4;

/**
 * Demo data through the gateway's public API, as users would make it: accounts, one or two
 * tenants (the first users own them, the rest are members), published documents in three
 * languages, and comments that mention another member.
 */
export async function seedDemo(gateway: GatewayClient, { users, documents, onProgress }: DemoSeedOptions): Promise<DemoSeedReport> {
  const run = randomBytes(3).toString('hex');
  const password = `Demo ${randomBytes(6).toString('hex')} 7`;
  const tenantCount = users >= USERS_FOR_TWO_TENANTS ? 2 : 1;
  const total = users + tenantCount * 2 + (users - tenantCount) * 2 + documents * 3;
  let done = 0;
  const step = (detail: string) => onProgress(++done, total, detail);
  onProgress(0, total, 'starting');

  const accounts: (Member & { accessToken: string })[] = [];
  for (let index = 0; index < users; index++) {
    const email = `demo-${run}-${index + 1}@example.com`;
    const displayName = NAMES[index % NAMES.length];
    const { register } = await gateway.request<{ register: { accessToken: string; user: { id: string; username: string } } }>(REGISTER, {
      input: { email, password, displayName, username: `demo_${run}_${index + 1}` },
    });
    accounts.push({ email, username: register.user.username, userId: register.user.id, accessToken: register.accessToken, token: '' });
    step(`user ${email}`);
  }

  const tenants: { id: string; slug: string; members: Member[] }[] = [];
  for (let index = 0; index < tenantCount; index++) {
    const owner = accounts[index];
    const slug = `demo-${run}-${index + 1}`;
    const { createTenant } = await gateway.request<{ createTenant: { tenant: { id: string; slug: string } } }>(
      CREATE_TENANT,
      { input: { name: `Demo ${run} ${index + 1}`, slug } },
      owner.accessToken,
    );
    step(`tenant ${slug}`);
    owner.token = await switchTenant(gateway, owner.accessToken, createTenant.tenant.id);
    step(`tenant ${slug}`);
    tenants.push({ ...createTenant.tenant, members: [owner] });
  }
  for (let index = tenantCount; index < users; index++) {
    const member = accounts[index];
    const tenant = tenants[index % tenantCount];
    await gateway.request(ADD_MEMBER, { input: { email: member.email, role: 'member' } }, tenant.members[0].token);
    step(`member ${member.email}`);
    member.token = await switchTenant(gateway, member.accessToken, tenant.id);
    step(`member ${member.email}`);
    tenant.members.push(member);
  }

  const seeded: DemoSeedReport['documents'] = [];
  for (let index = 0; index < documents; index++) {
    const tenant = tenants[index % tenantCount];
    const author = tenant.members[index % tenant.members.length];
    const sample = SAMPLE_DOCUMENTS[index % SAMPLE_DOCUMENTS.length];
    const title = `${sample.title} (${run}-${index + 1})`;
    const { createDocument } = await gateway.request<{ createDocument: { document: { id: string } } }>(
      CREATE_DOCUMENT,
      { input: { title, body: sample.body, summary: sample.body, type: 'ARTICLE', language: sample.language } },
      author.token,
    );
    const documentId = createDocument.document.id;
    step(`document ${title}`);
    // Owners are their tenant's admins: only editors publish.
    await gateway.request(PUBLISH_DOCUMENT, { input: { id: documentId } }, tenant.members[0].token);
    step(`document ${title}`);
    const commenter = tenant.members[(index + 1) % tenant.members.length];
    const mentioned = tenant.members[(index + 2) % tenant.members.length];
    const mention = mentioned.userId === commenter.userId ? '' : ` @${mentioned.username}, have a look.`;
    await gateway.request(ADD_COMMENT, { input: { documentId, body: `Thanks for writing this up!${mention}` } }, commenter.token);
    step(`comment on ${title}`);
    seeded.push({ id: documentId, language: sample.language, title });
  }

  return {
    run,
    password,
    users: accounts.map((account, index) => ({ email: account.email, username: account.username, tenantSlug: tenants[index < tenantCount ? index : index % tenantCount].slug })),
    tenants: tenants.map(({ id, slug }) => ({ id, slug })),
    documents: seeded,
    comments: documents,
  };
}

async function switchTenant(gateway: GatewayClient, accessToken: string, tenantId: string): Promise<string> {
  const { switchTenant } = await gateway.request<{ switchTenant: { accessToken: string } }>(SWITCH_TENANT, { input: { tenantId } }, accessToken);
  return switchTenant.accessToken;
}
