import { awsTables, undeclaredPrivacyKey } from '../adapters/aws-tables';
import { DynamoRejectedEventStore } from '../adapters/dynamodb';
import { createListRejectedEventsHandler } from '../app/list-rejected-events';

// Listing reads the events only: the privacy key (which keys their identity markers) is not declared here.
const { env, db } = awsTables();
export const handler = createListRejectedEventsHandler({ rejected: new DynamoRejectedEventStore(db, env.table('runtime'), undeclaredPrivacyKey) });
