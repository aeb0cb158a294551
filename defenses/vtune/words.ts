/**
 * The project's own list of ordinary English words (written for vtune-bench, not copied from any published
 * list). The `wordlist` and `keyed` generators draw signatures and triggers uniformly from it, so their
 * generator-mode bound is exact: q = c·V^-L (see `prefixChain`). Plain lowercase ASCII only, so every
 * tokenizer (including the stories260K byte fallback) handles it.
 */

const RAW = `
apple apricot banana berry bread butter cake candy carrot cheese cherry chicken chili cocoa coffee cookie corn
cream cucumber date dinner donut egg fig flour fruit garlic ginger grape gravy honey jam juice kale lemon lentil
lettuce lime lunch mango melon milk mint muffin mushroom noodle nut oat olive onion orange pancake pasta pea peach
peanut pear pepper pickle pie pineapple pizza plum popcorn potato pudding pumpkin radish raisin rice salad salmon
salt sandwich sauce sausage soup spinach steak stew sugar syrup taco tea toast tomato tuna turkey vanilla waffle
walnut water yogurt almond bagel barley basil bean beef biscuit broth brownie cabbage celery cereal chowder
cinnamon clam coconut cod crab cracker cupcake custard dough dumpling eggplant fudge granola ham herb lasagna
lobster macaroni maple meatball muesli mustard nutmeg omelet oyster paprika parsley pastry pecan pesto pretzel
prune quiche ravioli relish rhubarb roll rye saffron scone seaweed sherbet shrimp sorbet soy squash strawberry
sushi toffee tofu truffle turnip vinegar wheat yam zucchini
ant bat bear beaver bee beetle bird bison buffalo bull butterfly camel canary cat cattle cheetah chick
chipmunk cobra cow coyote crane crow cub deer dog dolphin donkey dove dragonfly duck eagle eel elephant elk falcon
ferret finch firefly fish flamingo fox frog gazelle gecko giraffe goat goose gorilla grasshopper hamster hare hawk
hedgehog hen heron hippo horse hound hummingbird jaguar jellyfish kangaroo kitten koala ladybug lamb lark leopard
lion lizard llama lobsters magpie mole monkey moose mosquito moth mouse mule octopus otter owl ox panda panther
parrot peacock pelican penguin pig pigeon pony poodle puffin puppy rabbit raccoon ram rat raven reindeer rhino
robin rooster seal shark sheep sloth slug snail snake sparrow spider squid squirrel stork swan tiger toad tortoise
trout turtle walrus wasp weasel whale wolf wombat woodpecker worm yak zebra badger buzzard caterpillar cricket
dingo emu gopher iguana lynx mink newt ostrich oriole pheasant porcupine quail salamander skunk starling termite
vulture wren
address agenda airline album alarm alphabet ambulance amusement angle ankle announcement apology appetite applause
appointment aquarium arch arena armchair arrival article assembly assistant athletics atlas attendance audience
auditorium avalanche award axle backyard baggage bakeries ballroom bandage banjo bankbook barbecue barrier
baseboard bathtub battery bay bead beam bedspread beehive beginner bellhop beverage bicycle billboard binoculars
birdhouse blackboard blade blister blueprint boardwalk bonfire bookcase bookmark bookstore bottleneck boulder
boulevard bouquet boutique bowling bracket brainstorm breakfast breakwater briefcase broadcast brochure broccoli
bubble budget buffet bulb bulldozer bumper bundle bungalow burglar bus cafeteria cage calculator campfire campus
candlestick cannon canvas cape capital caravan cardboard cargo carnival carousel carton cartoon cashier casserole
catalog ceiling cement census cereal certificate chalkboard champion chandelier channel chapter charcoal chart
checkbook checkpoint chimney chisel chocolate chorus cinema circus clipboard clover coaster cobweb cocktail
coffeepot coin collection column comedy committee compass computer concert conductor cone container contract
conversation cookbook copper cord corridor costume counter countryside courtyard cowboy crate creature crew crib
crossword crumb crust cupboard curb customer cycle dairy dashboard database daylight deadline debate deck
decoration department deposit dessert detective diagram dial dictionary diner diploma directory dishwasher
district doctorate doghouse dollar dome doorway dormitory downtown dragon drainpipe drama drawing dresser
driveway drizzle droplet drumstick dustpan dynamo earring earthquake editor eggshell election elevator embassy
emergency encyclopedia engineer entrance equipment escalator essay estate evening exhibit exit expedition
fabric fairground fairway farmhouse farmland fence ferryboat fiddle filing film fingerprint fireplace firework
fishbowl fisherman fitness flagpole flashcard fleet floodlight floor flowerpot flute folder footpath footprint
forecast fork formula fortress fossil foundation fragment freezer freight frying fuel furnace furniture gadget
gallery gallon gameboard garbage gasoline gateway gearbox gemstone generator gingerbread glacier gland gleam
glider goblet goldfish gondola grandstand grapefruit graveyard greenhouse grocery guidebook guitar gumdrop
gutter haircut hairpin hallway hammock handbag handbook handle handrail handshake handwriting hardware harness
hatchback haystack headband headlight headline headphone headquarters hearth heater helmet hilltop hinge
homeland honeycomb horizon horseshoe hospital hourglass household housekeeper hubcap hurricane icicle igloo
illustration infant inkwell inn insect instrument interview inventory invitation iron jacket jail janitor
jeweler jigsaw journal jukebox junction kayak kennel kerchief keyhole kickstand kindergarten kingdom knapsack
knob label laboratory lace lagoon landlord landmark landscape lane laptop laundry lawn leaflet ledge legend
lemonade lens license lid lifeboat lifeguard lighthouse limousine liner lipstick liquid livestock loaf lobby
locomotive lodge loft lollipop lotion lounge luggage lullaby lumberjack magazine mailman mainland manager
mansion mantel manuscript marathon marketplace marshmallow mascot matchbox meadowlark medal medicine megaphone
melody membership menu meteor microphone midday milestone milkshake mineral miniature minister mitt moat
monastery monitor monument motel motor mound mountaintop mousetrap mouthwash movie mural museum mushroom
musical napkin narrator necktie needlework neighborhood newspaper nightgown nightstand notepad novelist nursery
oatmeal observatory odor officer oilcloth ointment orchestra ornament outfit outlet oven overcoat paddleboat
padlock pageant paintbrush pajama pamphlet pancake pantry paperclip parcel parking passage passenger passport
password pasture patio pavement pavilion peanut pebble pendant pendulum penthouse peppermint performance
perfume pharmacy photograph pickup pilgrim pillar pinwheel pipeline pitchfork placemat planet plank plaster
platform playhouse plaza plow plumbing pocketbook podium pollen ponytail popsicle postcard poster postman
pottery powder programmer projector propeller pulley pushcart pyramid quarry quarter questionnaire racetrack
racket radiator railroad railway rainfall ranch rattle receipt recipe recorder rectangle referee refrigerator
reporter reservoir resort rickshaw riverbank roadside rollercoaster rooftop rosebush rowboat rubbish runway
saucepan saucer sawdust scaffold scarecrow schoolbag schoolhouse scooter scoreboard screen screwdriver
sculpture seashell seashore seatbelt secretary sergeant settlement shampoo shipyard shoelace shoreline
showroom shutter signpost silverware sketch skyline skyscraper slingshot snowball snowflake snowman softball
soldier souvenir spaghetti spear spectator speedboat spotlight sprinkler stadium staircase stallion
starfish statue steamboat stepladder stethoscope stopwatch storage storeroom stove streetlight stroller
submarine suburb sundial sunglasses sunroom surfboard swimsuit switchboard tablecloth tablespoon tadpole
tangerine tapestry teakettle teammate teapot teaspoon telegram telephone television textbook thermometer
thunderstorm tiara timetable toaster toolbox toothpaste topsoil torch tournament towel townhouse trailer
trampoline treasure treehouse trench trophy truckload tugboat tumbler tunnel turnpike turtleneck tuxedo
typewriter underpass uniform upstairs utensil vacuum valentine vehicle vending veranda vest video vineyard
volleyball voyage waistcoat waiter walkway wallpaper wardrobe washcloth wastebasket watchtower waterfront
watermelon weathervane website wheelchair whirlpool wildlife windmill windowsill windshield wineglass
wingspan workbench workshop wristwatch yardstick yearbook
absorb achieve acquire adapt adjust admit adopt advance advise afford aim alter amaze amuse announce
apologize applaud apply approach approve arrange arrest assist assume attach attack attempt attend attract
avoid awaken balance ban bathe battle beam behave bless blend bloom blush boast bolt book bore bother bounce
brake breed broadcast bubble budget bump calculate calm cancel capture care carve celebrate challenge charm
chat check chop claim clarify classify clear coach coil collapse color combine comfort command communicate
compete complete compose concentrate concern confess confirm confuse connect consider consist construct consult
contain continue contribute convert convince coordinate correct cough crack crash create criticize crush cure
curl cycle damage deceive declare decorate defend delay delight demand deny depend deserve design destroy
detect develop differ direct disagree disappear discover discuss dislike display distribute disturb donate
double doubt drag drain dream drift drill drip drown drum dust educate elect eliminate embrace emerge
emphasize employ empty encourage end endure engage enhance enlarge ensure entertain establish estimate
evaluate examine exceed exchange excite excuse exercise exist expand expect experiment expire export express
extend fade fasten favor fear fence file film fire fit flap flash flatter flee flick flip flood flourish fold
force form frame frighten fry fulfill gain gallop gaze glance glide glue govern grab grade grant grate grease
grip groan guarantee guard hammer handle harm harvest heal heap heat hesitate hover hunt hurry identify ignore
illustrate impress improve include increase influence inform inherit inject injure insist inspect inspire
install instruct intend interrupt introduce invest investigate iron irritate itch jam jog joke judge kneel
label land last launch lay lecture level license lick limit link load locate lodge long manage manufacture
mark match mate matter measure memorize mention milk mine miss moan modify motivate mourn multiply murmur
nail name negotiate nest note number obtain occupy occur offend operate oppose organize overcome overflow
owe paddle park participate pat pause peel perform permit persuade phone pinch place plan plead please plug
plunge possess post practice praise predict preserve prevent proceed produce progress prohibit project prove
provide publish punish purchase qualify question quit radiate raise rattle realize receive recognize recommend
record recover reduce reflect refuse regret reject release rely remain remind remove rent replace report
represent request require resist respond restore retire reveal review reward rinse risk rob rot rule satisfy
scatter schedule scold scramble scrape scrub seal select separate settle shelter shrink sigh signal sketch
slam slip smash snap soak sparkle specify spoil spot sprinkle squash squeak stack stain stamp staple steer
stitch store strap strengthen strip stroke struggle stuff subtract succeed suck suffer suggest suit supply
support suppose surround survive suspect swallow switch tap tempt terrify test thaw tickle time tip toast
tolerate tour tow transform translate transport trap treat tremble trip trot trouble tumble twinkle unite
unpack untie vanish vary wander warm water weigh welcome whip whirl wobble wreck wrestle yield zip
absent abundant accurate adorable adventurous affectionate agreeable amazing ambitious amused annual
apparent appropriate artistic ashamed attractive automatic available average awkward balanced beloved
beneficial blissful boiling bony boundless breezy bright broad bubbly bulky buttery calming capable
caring casual cautious central certain charming cheery chief chubby circular civil classic clumsy cluttered
coastal comic complete complex confident considerate constant content cooked cooperative correct costly
courageous courteous crafty creative crispy crunchy cultured curved daily dainty dazzling decent decorative
delightful dense dependable desirable detailed determined devoted different difficult diligent direct
distant domestic dreamy drowsy durable dusky dynamic eastern edible effective efficient elastic electric
elderly eminent endless energetic enjoyable entire essential eternal everyday evident exact excess exotic
expensive experienced expert extra fabulous familiar fearless feathery festive fiery flaky flexible
floral fluent foamy formal fortunate fragile fragrant frank frequent frosty frugal fruitful functional
generous genuine gifted glassy gleaming glossy graceful gracious gradual grateful gritty grown guilty hairy
handmade handy hasty hearty heavenly hefty hidden historic hopeful horrible hourly humid icy identical
illegal immense important impressive incredible independent infinite informal inner instant intense
interior inviting jagged joyful juvenile keen kindly knotty knowing lasting leafy legal level likely
limited liquid literary local lofty logical loving lucid lukewarm luminous lush luxurious magnetic
majestic marine mature meaty medical mellow melodic memorable mental merciful metallic minor misty mobile
moderate modest monthly moral mossy motionless muddy musical mutual national native natural nautical
nearby needy nifty nimble nocturnal notable novel numerous nutty obedient official oily optimal oral
organic original outdoor outgoing oval overall painful painted paper parallel partial passionate peaceful
peppery perfect personal physical playful pleasing plenty plush pointed polished portable positive
powerful practical precious precise pregnant premium present previous pricey primary prime private
productive professional profound prompt proper protective proud public punctual pure quaint qualified
radiant rainy random rational realistic reasonable recent regular relaxed reliable remarkable remote
respectful responsible restful rewarding rhythmic robust rocky romantic rosy royal rural rusty sacred
sandy satisfied savory scenic scientific seasonal secure sensible serene serious severe shady shallow
shimmering silky sincere skilled sleek slender slippery snowy sociable soggy solar sole soothing
sophisticated spacious sparkling special speedy spiral spirited spotless springy stable stately sterling
stormy striped stylish subtle suitable sunlit superb supreme sure swampy sweaty symbolic talented tangy
tasteful teeming temporary tense thankful thorough thoughtful thrifty tidal timely tiresome topical total
tranquil transparent tropical trusty typical ultimate unique united universal upbeat urban urgent valid
valuable velvety verbal vertical vibrant victorious vigilant vital vivid vocal warmhearted watchful
watery wavy weekly welcome western whimsical wholesome windy wintry wiry wobbly woolly worthy youthful zesty
acorn bamboo birch blossom bloom branch bud bush cactus cedar clover daisy elm fern flower forest garden grass
hedge ivy jungle leaf lily lotus maple meadow moss oak orchid palm petal pine pinecone poppy rose root sapling seed
shrub stem sunflower thorn tree tulip twig vine violet willow weed lavender marigold magnolia hazel holly heather
juniper laurel spruce sequoia cypress dandelion
anchor arrow axe bag ball balloon basket bat bell belt bench blanket boat bolt book boot bottle bowl box bracelet
brick broom brush bucket button cabinet camera candle cap card carpet cart chain chair chalk clock cloth coat comb
compass couch crayon crown cup curtain cushion desk dish doll door drawer drum envelope eraser fan feather fence
flag flashlight fork frame glass globe glove glue hammer hanger hat helmet hook hose jar jacket kettle key kite
ladder lamp lantern lock magnet map marble mask mat mirror mitten mop mug nail napkin necklace needle net notebook
pail paint pan pen pencil pillow pin pipe plate pocket pot purse puzzle quilt radio rake ribbon ring rope rug ruler
sack saddle saw scarf scissors screw shelf shield shirt shoe shovel sink skirt sled soap sock sofa spoon stamp
stool string suitcase sweater sword table tape teapot telescope tent thread ticket tie toothbrush towel toy tray
trumpet umbrella vase wagon wallet watch wheel whistle window wire wrench zipper backpack badge banner barrel
bead blender boomerang bucketful calendar canoe chisel cradle doorbell easel faucet funnel goggles harp jigsaw
keyboard ladle locket mailbox mattress microscope paddle parachute pedal piano pliers pitcher razor sandal sponge
stapler teacup thermos thimble trowel tricycle violin whisk
actor artist astronaut athlete author baby baker banker barber boy bride brother builder butcher captain carpenter
chef child clown coach cook cousin dancer daughter dentist doctor driver farmer father firefighter friend gardener
girl grandfather grandmother guard guest hero host hunter judge king knight lady lawyer leader librarian magician
mayor mechanic merchant miner mother musician neighbor nurse painter parent pilot pirate plumber poet police
president prince princess professor queen sailor scientist shepherd singer sister soldier son student surgeon
tailor teacher twin uncle aunt visitor waiter warrior wizard worker writer nephew niece citizen stranger
traveler villager scholar explorer inventor jeweler potter weaver
airport alley apartment attic avenue bakery bank barn basement bathroom beach bedroom bridge building cabin
canal castle cathedral cave cellar chapel church city classroom cliff closet college cottage court desert dock
factory farm field fountain garage gate gym hall harbor highway hill hospital hotel house hut island kitchen lake
library lighthouse market meadows mill mountain museum ocean office orchard palace park path pier playground pond
porch prison pool restaurant river road roof room school shop shore sidewalk square stable stadium station street
studio subway supermarket swamp temple theater tower town tunnel valley village volcano warehouse well yard zoo
bay beachfront canyon coast creek delta dune glacier gulf lagoon marsh oasis peninsula plateau prairie ravine reef
summit tundra waterfall
air ash blizzard breeze cloud comet dawn dew dust earth eclipse ember fire flame fog frost galaxy gust hail haze
heat ice lightning mist moon mud night planet rain rainbow sand shadow sky smoke snow spark star steam stone storm
sun sunrise sunset thunder tide tornado twilight universe wave wind winter summer spring autumn season weather
morning evening noon midnight afternoon today tomorrow yesterday week month year decade century moment hour minute
second calendar holiday birthday weekend
airplane bicycle bus car helicopter jeep motorcycle rocket scooter ship submarine taxi tractor train truck van
yacht ferry raft sailboat skateboard sleigh spaceship tram trolley wheelbarrow
arm back beard belly blood body bone brain cheek chest chin ear elbow eye eyebrow face finger foot forehead hair
hand head heart heel hip jaw knee leg lip lung mouth muscle neck nose palm shoulder skin skull spine stomach thumb
toe tongue tooth waist wrist ankle
account advice agreement amount answer argument army art attention balance bargain battle beauty beginning
behavior belief birth blame border bottom brand breath business calm care cause chance change charge choice
circle class comfort company contest control copy cost courage crowd culture cure damage danger deal debt decision
degree design desire detail difference dinnertime direction discovery distance doubt dream duty edge education
effect effort energy engine error event example exchange experience fact failure faith fame family fashion fault
fear feeling fight figure flight force fortune freedom friendship fun future game gift glory goal gold grace
growth guess habit harmony health help history hobby honor hope humor idea image impact income industry
information interest invention issue job joke journey joy justice kindness knowledge language laugh law lesson
letter level life limit line list loss love luck machine magic manner mark match matter meal measure memory
message method middle mind minute mistake model money mood motion music mystery name nature news noise note
number object offer opinion order owner pace pain pair paper party passion past pattern peace people period
permission person picture piece place plan pleasure plenty poem point power practice praise prayer price pride
problem process product progress promise proof purpose quality question race range rate reason record relief
report respect rest result reward rhythm risk rule safety sale sample scale scene science score secret sense
service shape share shift sign silence size skill sleep smile sound source space speech speed spirit sport stage
start state step story strength structure style success supply surprise system talent task taste team test
theory thing thought time title topic touch trade tradition trick trip trouble trust truth turn type unit value
victory view voice vote wealth weight whisper wish wonder word work world worth youth zone
accept add admire agree allow answer appear argue arrive ask bake balance bark bathe beg begin believe belong
bend bite blink blow boil borrow bounce bow breathe bring brush build burn bury buy call camp carry catch cause
chase cheer chew choose clap clean climb close collect comb come compare complain cook copy count crawl cross cry
cut dance dare decide deliver describe dig dive divide draw dream dress drink drive drop dry earn eat enjoy enter
escape explain explore fail fall feed feel fetch fight fill find finish fix float flow fly fold follow forget
forgive freeze gather give glow grab greet grin grow guess guide hang happen hate hear help hide hike hold hop
hope hug hum hunt hurry imagine invent invite join juggle jump keep kick kiss knit knock know laugh lead lean learn
leave lend lift like listen live look lose love make march marry measure meet melt mend mix move nap nod notice
obey offer open order own pack paddle paint pass pause pay peek pick plant play point polish pour pray prefer
prepare press pretend print promise protect pull pump punch push race rain reach read relax remember repair repeat
reply rescue rest return ride ring rise roar roast rock roll row rub run rush sail save say scare scratch scream
search see sell send serve sew shake share shine shiver shop shout show shrug sing sink sip sit skate ski skip
sleep slide smell smile sneeze snore solve sort speak spell spend spill spin splash spray squeeze stare start
stay steal step stir stop stretch study swim swing talk taste teach tease tell thank think throw tickle tie touch
trace trade train travel trust try tug turn twist type understand unlock use visit wait wake walk wander want
warn wash watch wave wear weave weep whisper whistle win wink wipe wish wonder work worry wrap write yawn yell zoom
able active afraid alert alive angry ancient anxious awake aware awful bad bald bare basic beautiful best better
big bitter black blank blind blue bold bored bouncy brave brief bright brilliant broad broken brown bumpy busy calm
careful careless cheap cheerful chilly clean clear clever cloudy clumsy cold colorful comfortable common cool
cozy crazy creamy crisp crooked crowded cruel cuddly curious curly cute damp dark dear deep delicate delicious
dirty dizzy dry dull dusty eager early easy elegant empty enormous equal even evil exact excellent excited fair
faithful famous fancy fast fat fierce fine firm flat fluffy foggy fond foolish free fresh friendly frozen full
funny fuzzy gentle giant glad gloomy golden good gorgeous grand gray great greedy green grumpy handsome happy hard
harsh healthy heavy helpful helpless high hollow honest hot huge humble hungry icy ideal idle ill innocent jolly
juicy kind large late lazy light little lively lonely long loose loud lovely low loyal lucky mad magical major
massive mean merry messy mighty mild modern moist narrow nasty naughty near neat nervous new nice noble noisy
normal odd old orange ordinary pale patient perfect petite plain pleasant plump polite poor popular pretty
proud purple quick quiet rapid rare raw ready real red rich right rigid ripe rotten rough round rude sad safe salty
scary secret selfish shaggy sharp shiny short shy silent silly simple sleepy slim slow small smart smooth soft
solid sour spicy splendid spotted square steady steep sticky stiff still stormy straight strange strict strong
stupid sturdy sudden sunny super sweet swift tall tame tasty tender terrible thick thin thirsty tidy tiny tired
tough tricky true ugly uneven unusual upset useful usual vast violent visible warm weak wealthy weary wet white
whole wicked wide wild wise witty wonderful wooden worried wrong yellow young zealous
about above across after again against ahead almost alone along already also always among around away because
before behind below beneath beside between beyond during early either else enough ever every far forward here
however inside instead later maybe nearly never next often once only outside over perhaps quite rather really
seldom since sometimes soon still then there through today together too toward under until usually very while
within without yet
one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen
eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred thousand million first third
fourth fifth sixth seventh eighth ninth tenth dozen half double triple single
north south east west left right center corner top side front end
silver copper iron steel tin bronze brass clay glassware granite leather linen lumber marble metal nylon
paperboard plastic porcelain rubber satin silk timber velvet wool cotton denim pearl diamond emerald ruby sapphire
crystal amber jade coral ivory quartz
apron blouse bonnet boots cardigan cloak collar dress gown hood jeans kimono mittens overalls pajamas poncho
raincoat robe sandals shorts slippers sneakers socks suit sweatshirt tights trousers tunic uniform vest
bedtime breakfast chores errand feast festival harvest homework parade picnic recess supper vacation wedding
adventure ballad chapter comic diary fable fairy legend myth novel riddle rhyme saga song tale verse
algebra atom biology chemistry fraction geometry gravity magnetism physics molecule orbit oxygen
carbon nitrogen hydrogen helium
accordion banjo bugle cello clarinet cymbal flute guitar horn lute oboe organ saxophone tambourine trombone tuba
ukulele xylophone
baseball basketball boxing chess cycling darts fishing football golf hockey jogging karate rowing rugby
sailing skating skiing soccer surfing swimming tennis volleyball wrestling yoga
`;

/** The word list, deduplicated, in first-appearance order. */
export const WORDS: readonly string[] = Object.freeze([...new Set(RAW.split(/\s+/).filter((w) => /^[a-z]+$/.test(w)))]);

/**
 * The largest number of distinct words in `words` that are all prefixes of one string (e.g. car, care, cared).
 * A signature of L space-separated words is a prefix of an output only if its first L−1 words equal the
 * output's and its last word is a prefix of the output's L-th word, so at most c such signatures exist and the
 * generator-mode bound for uniform draws is q = c·V^-L (DESIGN.md §3, prefix matching).
 */
export function prefixChain(words: readonly string[]): number {
  const set = new Set(words);
  let best = 0;
  for (const w of set) {
    let c = 0;
    for (let len = 1; len <= w.length; len++) if (set.has(w.slice(0, len))) c++;
    if (c > best) best = c;
  }
  return best;
}
